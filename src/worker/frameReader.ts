// Reads LSP base-protocol frames (`Content-Length` headers, JSON body) for vscode-jsonrpc's
// connection, and stands between hostile bytes and the dispatcher:
// - a frame that does not parse is answered with -32700;
// - JSON that is not a JSON-RPC 2.0 message is answered with -32600 (the connection would only
//   log it);
// - after a bad header or a body cut short by the next frame, reading resumes at the next
//   `Content-Length:`, so one broken frame does not take every later message with it.
import type { Readable } from 'node:stream';
import { AbstractMessageReader, type DataCallback, type Disposable, type Message } from 'vscode-jsonrpc/node';
import { ErrorCodes } from './protocol.js';

export type Reject = (id: string | number | null, code: number, message: string) => void;

const MAX_HEADER_BYTES = 8 * 1024;
/** Requests are small: references and credentials, never image content. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const SEPARATOR = Buffer.from('\r\n\r\n');

export class FrameReader extends AbstractMessageReader {
  private buffer = Buffer.alloc(0);
  private callback: DataCallback = () => undefined;
  /** After a broken frame: bytes are dropped until a `Content-Length:` shows up. */
  private resyncing = false;

  /** `paramsRequired`: methods whose requests must carry params (an object). */
  constructor(private readonly input: Readable, private readonly reject: Reject, private readonly paramsRequired: ReadonlySet<string> = new Set()) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer): void => this.onData(chunk);
    const onEnd = (): void => this.fireClose();
    const onError = (e: Error): void => this.fireError(e);
    this.input.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', onError);
    return { dispose: () => void this.input.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onError) };
  }

  private onData(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    if (this.resyncing) {
      const next = findHeader(this.buffer, 0);
      if (next < 0) {
        this.buffer = this.buffer.subarray(this.buffer.length - headerPrefixAtEnd(this.buffer));
        return;
      }
      this.buffer = this.buffer.subarray(next);
      this.resyncing = false;
    }
    for (;;) {
      const end = this.buffer.indexOf(SEPARATOR);
      if (end < 0) {
        if (this.buffer.length > MAX_HEADER_BYTES && this.skip(`a header longer than ${MAX_HEADER_BYTES} bytes`, 1)) continue;
        return;
      }
      const length = contentLength(this.buffer.subarray(0, end).toString('latin1'));
      if (typeof length === 'string') {
        if (this.skip(`bad header (${length})`, end + SEPARATOR.length)) continue;
        return;
      }
      const start = end + SEPARATOR.length;
      if (this.buffer.length < start + length) return; // the rest of the body is still coming
      const body = this.buffer.subarray(start, start + length);
      this.buffer = this.buffer.subarray(start + length);
      this.deliver(body);
    }
  }

  private deliver(body: Buffer): void {
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (e) {
      this.reject(null, ErrorCodes.ParseError, `Parse error: ${(e as Error).message}`);
      // A body cut short swallows the start of the next frame: give that frame back.
      const next = findHeader(body, 1);
      if (next >= 0) this.buffer = Buffer.concat([body.subarray(next), this.buffer]);
      return;
    }
    const problem = invalidMessage(value, this.paramsRequired);
    if (problem) {
      // A notification gets no answer, not even an error: it is dropped.
      if (problem.answer) this.reject(problem.id, problem.code, problem.why);
    } else {
      this.callback(value as Message);
    }
  }

  /**
   * Reports a broken frame and drops bytes up to the next `Content-Length:` after `from`. Returns
   * whether one was found; if not, only a tail that could begin one is kept, to wait for more.
   */
  private skip(why: string, from: number): boolean {
    this.reject(null, ErrorCodes.ParseError, `Parse error: ${why}`);
    const next = findHeader(this.buffer, from);
    if (next >= 0) {
      this.buffer = this.buffer.subarray(next);
      return true;
    }
    this.buffer = this.buffer.subarray(Math.max(from, this.buffer.length - headerPrefixAtEnd(this.buffer)));
    this.resyncing = true;
    return false;
  }
}

/** The Content-Length of a header block, or why there is none. */
function contentLength(header: string): number | string {
  let length: number | undefined;
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return `"${line.slice(0, 40)}" is not a header line`;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d+$/.test(value)) return `Content-Length "${value.slice(0, 20)}" is not a number`;
      length = Number(value);
    }
  }
  if (length === undefined) return 'no Content-Length';
  if (length > MAX_BODY_BYTES) return `Content-Length ${length} is over ${MAX_BODY_BYTES}`;
  return length;
}

const HEADER_NAME = 'content-length:';

function findHeader(buffer: Buffer, from: number): number {
  return buffer.toString('latin1').toLowerCase().indexOf(HEADER_NAME, from);
}

/** How many bytes at the end of `buffer` could be the start of `Content-Length:`. */
function headerPrefixAtEnd(buffer: Buffer): number {
  const tail = buffer.subarray(-(HEADER_NAME.length - 1)).toString('latin1').toLowerCase();
  for (let n = tail.length; n > 0; n--) if (HEADER_NAME.startsWith(tail.slice(-n))) return n;
  return 0;
}

interface Problem {
  id: string | number | null;
  code: number;
  why: string;
  /** False for a broken notification: JSON-RPC answers no notification. */
  answer: boolean;
}

/**
 * Why a parsed value is not a message this worker can act on, if it is not. Besides JSON-RPC 2.0
 * itself, the protocol has every params by name (an object), and `$/cancelRequest` names an id.
 */
function invalidMessage(value: unknown, paramsRequired: ReadonlySet<string>): Problem | undefined {
  const invalid = (id: string | number | null, why: string): Problem => ({ id, code: ErrorCodes.InvalidRequest, why: `Invalid request: ${why}`, answer: true });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(null, Array.isArray(value) ? 'batches are not supported' : 'a message must be a JSON object');
  }
  const m = value as Record<string, unknown>;
  const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
  if (m.jsonrpc !== '2.0') return invalid(id, '"jsonrpc" must be "2.0"');
  if ('id' in m && typeof m.id !== 'string' && typeof m.id !== 'number') return invalid(null, '"id" must be a string or a number');
  if ('method' in m) {
    if (typeof m.method !== 'string' || m.method.length === 0) return invalid(id, '"method" must be a non-empty string');
    const isRequest = 'id' in m;
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null || Array.isArray(m.params))) {
      return { id, code: ErrorCodes.InvalidParams, why: `${m.method}: params must be an object`, answer: isRequest };
    }
    if (isRequest && m.params === undefined && paramsRequired.has(m.method)) return { id, code: ErrorCodes.InvalidParams, why: `${m.method}: params are missing`, answer: true };
    if (m.method === '$/cancelRequest') {
      const target = (m.params as { id?: unknown } | undefined)?.id;
      if (typeof target !== 'string' && typeof target !== 'number') return { id, code: ErrorCodes.InvalidParams, why: '$/cancelRequest: params.id is missing', answer: false };
    }
    return undefined;
  }
  if ('result' in m || 'error' in m) return undefined; // a response: the connection matches or ignores it
  return invalid(id, 'neither a request, a notification nor a response');
}
