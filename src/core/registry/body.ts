// Reading response bodies with a size limit, so a hostile server cannot make us buffer without end.
import { FormatError } from '../errors.js';
import type { HttpResponse } from './transport.js';

/** The whole body, or an INVALID_FORMAT error once it passes `limit` bytes. */
export async function readBody(res: HttpResponse, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new FormatError('INVALID_FORMAT', `${what}: the response is larger than ${limit} bytes`, { format: 'http' });
      chunks.push(chunk as Buffer);
    }
  } finally {
    res.body.destroy();
  }
  return Buffer.concat(chunks);
}

/** At most `limit` bytes of the body as text, dropping the rest (for error messages). */
export async function readPrefix(res: HttpResponse, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      chunks.push(buf.subarray(0, limit - size));
      size += buf.length;
      if (size >= limit) break;
    }
  } catch {
    // A broken body still leaves the status to report.
  } finally {
    res.body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a JSON body, naming what was expected when it is not JSON. */
export async function readJson(res: HttpResponse, limit: number, what: string): Promise<unknown> {
  const bytes = await readBody(res, limit, what);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new FormatError('INVALID_FORMAT', `${what}: the response is not JSON (${(e as Error).message})`, { format: 'http' });
  }
}
