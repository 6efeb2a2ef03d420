// Small stream builders and readers.
import { Readable } from 'node:stream';

/** A byte stream yielding exactly these chunks, in order. */
export function streamOf(...chunks: Array<Buffer | string>): Readable {
  return Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)), { objectMode: false });
}

/** An endless stream of `chunk`, counting how many chunks were pulled. */
export function endless(chunk: Buffer): { stream: Readable; pulled: () => number } {
  let count = 0;
  const stream = new Readable({
    read() {
      count++;
      this.push(chunk);
    },
  });
  return { stream, pulled: () => count };
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(parts);
}
