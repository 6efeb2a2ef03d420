// Builds layers' zTOCs on worker threads, so layers indexed at once use as many cores. A job keeps
// its threads for all its layers: starting one (and warming its code) costs tens of milliseconds.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { LazyImageError, throwIfAborted, type ErrorCode } from '../errors.js';
import { DEFAULT_SPAN_SIZE } from './build.js';

export type ZtocThreadRequest =
  | { type: 'start'; compression: 'gzip' | 'none'; where: string; spanSize: number; size?: number }
  | { type: 'chunk'; data: ArrayBuffer }
  | { type: 'end' };

export type ZtocThreadReply =
  | { type: 'ack' }
  | { type: 'done'; bytes: Uint8Array; digest: string; spans: number; files: number }
  | { type: 'error'; code: ErrorCode; message: string };

export interface ThreadBuiltZtoc {
  bytes: Buffer;
  digest: string;
  spans: number;
  files: number;
}

export interface ZtocThreadOptions {
  spanSize?: number;
  /** The layer blob's size, which bounds what it may inflate to. */
  size?: number;
  signal?: AbortSignal;
  onRead?: (bytes: number) => void;
  /** The chunks are the caller's alone: their memory moves to the thread instead of being copied. */
  owned?: boolean;
}

/** Chunks sent and not yet indexed: enough to keep the thread busy, little memory. */
const IN_FLIGHT = 8;

export class ZtocThreads {
  private readonly idle: Worker[] = [];
  private readonly running = new Set<Worker>();

  /** `ready` threads start at once, ahead of the first layer. */
  constructor(ready = 0) {
    for (let i = 0; i < ready; i++) this.idle.push(startThread());
  }

  /** Builds one layer's zTOC from its bytes, on an idle thread or a new one. */
  async build(source: Readable, compression: 'gzip' | 'none', where: string, options: ZtocThreadOptions = {}): Promise<ThreadBuiltZtoc> {
    let worker = this.idle.pop();
    while (worker && exited.has(worker)) worker = this.idle.pop();
    worker ??= startThread();
    this.running.add(worker);
    let reusable = false;
    try {
      const built = await buildOn(worker, source, compression, where, options);
      reusable = true;
      return built;
    } finally {
      this.running.delete(worker);
      // A thread that failed or was left mid-layer is not trusted with another.
      if (reusable) this.idle.push(worker);
      else await worker.terminate();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.idle.splice(0), ...this.running].map((w) => w.terminate()));
  }
}

/** Threads that ended while idle (their errors are reported by the build that uses them next, or not at all). */
const exited = new WeakSet<Worker>();

function startThread(): Worker {
  // Next to this module both in `out/` and in the `dist/` bundles, which bundle it as its own entry.
  const worker = new Worker(join(__dirname, 'ztocWorker.js'));
  worker.on('error', () => undefined).once('exit', () => exited.add(worker));
  return worker;
}

async function buildOn(worker: Worker, source: Readable, compression: 'gzip' | 'none', where: string, options: ZtocThreadOptions): Promise<ThreadBuiltZtoc> {
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  let onMessage: ((reply: ZtocThreadReply) => void) | undefined;
  let onError: ((e: Error) => void) | undefined;
  let onExit: ((code: number) => void) | undefined;
  const result = new Promise<ThreadBuiltZtoc>((resolve, reject) => {
    const fail = (e: Error): void => {
      failure ??= e;
      reject(failure);
      wake?.();
    };
    onMessage = (reply) => {
      if (reply.type === 'ack') {
        inFlight--;
        wake?.();
      } else if (reply.type === 'done') {
        resolve({ bytes: Buffer.from(reply.bytes), digest: reply.digest, spans: reply.spans, files: reply.files });
      } else {
        fail(new LazyImageError(reply.code, reply.message, { ref: where }));
      }
    };
    onError = (e) => fail(new LazyImageError('INTERNAL', `${where}: the zTOC thread failed: ${e.message}`, { ref: where }));
    onExit = (code) => fail(new LazyImageError('INTERNAL', `${where}: the zTOC thread exited (code ${code})`, { ref: where }));
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
  result.catch(() => undefined);
  try {
    worker.postMessage({ type: 'start', compression, where, spanSize: options.spanSize ?? DEFAULT_SPAN_SIZE, size: options.size } satisfies ZtocThreadRequest);
    let read = 0;
    for await (const chunk of source) {
      throwIfAborted(options.signal, where);
      if (failure) throw failure;
      const bytes = chunk as Buffer;
      read += bytes.length;
      const whole = options.owned && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
      const data = whole ? bytes.buffer as ArrayBuffer : new Uint8Array(bytes).buffer;
      worker.postMessage({ type: 'chunk', data } satisfies ZtocThreadRequest, [data]);
      inFlight++;
      while (inFlight >= IN_FLIGHT && !failure) await new Promise<void>((r) => (wake = r));
      options.onRead?.(read);
    }
    if (failure) throw failure;
    worker.postMessage({ type: 'end' } satisfies ZtocThreadRequest);
    return await result;
  } finally {
    worker.off('message', onMessage!).off('error', onError!).off('exit', onExit!);
  }
}
