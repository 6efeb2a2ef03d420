// Builds a layer's zTOC on a worker thread, so layers indexed at once use as many cores: pako's
// inflate is JavaScript, and on the main thread two layers would only take turns.
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { LazyImageError, throwIfAborted, type ErrorCode } from '../errors.js';
import { DEFAULT_SPAN_SIZE } from './build.js';

export interface ZtocThreadData {
  compression: 'gzip' | 'none';
  where: string;
  spanSize: number;
}

export type ZtocThreadRequest = { type: 'chunk'; data: ArrayBuffer } | { type: 'end' };

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

/** Chunks sent and not yet indexed: enough to keep the thread busy, little memory. */
const IN_FLIGHT = 8;

export async function buildZtocOnThread(
  source: Readable, compression: 'gzip' | 'none', where: string, options: { spanSize?: number; signal?: AbortSignal; onRead?: (bytes: number) => void } = {},
): Promise<ThreadBuiltZtoc> {
  const data: ZtocThreadData = { compression, where, spanSize: options.spanSize ?? DEFAULT_SPAN_SIZE };
  // Next to this module both in `out/` and in the `dist/` bundles, which bundle it as its own entry.
  const worker = new Worker(join(__dirname, 'ztocWorker.js'), { workerData: data });
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let finished: ((r: ThreadBuiltZtoc) => void) | undefined;
  let failure: Error | undefined;
  const result = new Promise<ThreadBuiltZtoc>((resolve, reject) => {
    finished = resolve;
    const fail = (e: Error): void => {
      failure ??= e;
      reject(failure);
      wake?.();
    };
    worker.on('message', (reply: ZtocThreadReply) => {
      if (reply.type === 'ack') {
        inFlight--;
        wake?.();
      } else if (reply.type === 'done') {
        finished!({ bytes: Buffer.from(reply.bytes), digest: reply.digest, spans: reply.spans, files: reply.files });
      } else {
        fail(new LazyImageError(reply.code, reply.message, { ref: where }));
      }
    });
    worker.on('error', (e) => fail(new LazyImageError('INTERNAL', `${where}: the zTOC thread failed: ${e.message}`, { ref: where })));
    worker.on('exit', (code) => fail(new LazyImageError('INTERNAL', `${where}: the zTOC thread exited (code ${code})`, { ref: where })));
  });
  result.catch(() => undefined);
  try {
    let read = 0;
    for await (const chunk of source) {
      throwIfAborted(options.signal, where);
      if (failure) throw failure;
      const bytes = chunk as Buffer;
      read += bytes.length;
      const copy = new Uint8Array(bytes);
      worker.postMessage({ type: 'chunk', data: copy.buffer } satisfies ZtocThreadRequest, [copy.buffer]);
      inFlight++;
      while (inFlight >= IN_FLIGHT && !failure) await new Promise<void>((r) => (wake = r));
      options.onRead?.(read);
    }
    if (failure) throw failure;
    worker.postMessage({ type: 'end' } satisfies ZtocThreadRequest);
    return await result;
  } finally {
    await worker.terminate();
  }
}
