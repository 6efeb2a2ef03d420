// The Node worker: the protocol of docs/worker-protocol.md over a pair of streams (stdin/stdout of
// `dist/worker.js` and `lazyimg worker`), dispatching each operation to its core job.
import type { Readable, Writable } from 'node:stream';
import { CancellationToken, ResponseError, StreamMessageWriter, createMessageConnection, type ResponseMessage } from 'vscode-jsonrpc/node';
import { LazyImageError, describeError } from '../core/errors.js';
import { recordWrites, type WrittenContent } from '../core/oci/index.js';
import { toResponseError } from './errors.js';
import { FrameReader } from './frameReader.js';
import { operations, type OperationRun } from './operations.js';
import { ProgressReporter } from './progressReporter.js';
import { ErrorCodes, Methods, PROTOCOL_VERSION, type InitializeResult, type Operation } from './protocol.js';
import { Params } from './validate.js';

export interface WorkerOptions {
  /** Jobs run at once unless the client's initialize asks for another number. */
  maxConcurrentJobs?: number;
  /** Where log lines go (stderr for the process). Never gets credentials. */
  log?: (line: string) => void;
}

const VERSION = '0.1.0';
const DEFAULT_CONCURRENCY = 2;
/** However many a client asks for. */
const MAX_CONCURRENCY = 16;

/** Serves one client until `exit` or the end of input; resolves with the process exit code. */
export function serveWorker(input: Readable, output: Writable, options: WorkerOptions = {}): Promise<number> {
  const log = options.log ?? (() => undefined);
  const writer = new StreamMessageWriter(output);
  const withParams = new Set<string>([Methods.initialize, ...Object.keys(operations).map((o) => `lazyimg/${o}`)]);
  const reader = new FrameReader(input, (id, code, message) => {
    log(`rejected message: ${message}`);
    void writer.write({ jsonrpc: '2.0', id, error: { code, message } } as ResponseMessage);
  }, withParams);
  const connection = createMessageConnection(reader, writer, { error: log, warn: log, info: () => undefined, log: () => undefined });
  let state: 'new' | 'ready' | 'shutdown' = 'new';
  let slots = new Slots(options.maxConcurrentJobs ?? DEFAULT_CONCURRENCY);
  const jobs = new Set<{ controller: AbortController; done: Promise<unknown> }>();

  /** Cancels every job and waits until each has cleaned up. */
  const stopJobs = async (): Promise<void> => {
    for (const job of jobs) job.controller.abort();
    await Promise.allSettled([...jobs].map((j) => j.done));
  };

  let finish: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => {
    finish = (code) => {
      finish = () => undefined;
      void stopJobs().then(() => {
        connection.dispose();
        resolve(code);
      });
    };
  });

  connection.onRequest(Methods.initialize, (raw: unknown): InitializeResult => {
    if (state !== 'new') throw new ResponseError(ErrorCodes.InvalidRequest, 'initialize: the worker is already initialized');
    const params = new Params(Methods.initialize, raw);
    const version = params.string('protocolVersion');
    if (version.split('.')[0] !== PROTOCOL_VERSION.split('.')[0]) {
      throw new ResponseError(ErrorCodes.InvalidParams, `initialize: protocol version ${version} is not supported (this worker speaks ${PROTOCOL_VERSION})`);
    }
    const max = params.optionalPositiveInteger('maxConcurrentJobs');
    if (max !== undefined) slots = new Slots(Math.min(max, MAX_CONCURRENCY));
    state = 'ready';
    return {
      protocolVersion: PROTOCOL_VERSION,
      serverInfo: { name: 'lazyimg-node-worker', version: VERSION },
      capabilities: { operations: Object.keys(operations) as Operation[], formats: ['oci', 'docker', 'estargz', 'soci'], maxConcurrentJobs: slots.size },
    };
  });
  connection.onNotification(Methods.initialized, () => undefined);
  connection.onRequest(Methods.shutdown, async () => {
    if (state === 'new') throw new ResponseError(ErrorCodes.ServerNotInitialized, 'shutdown: send initialize first');
    state = 'shutdown';
    await stopJobs();
    return null;
  });
  connection.onNotification(Methods.exit, () => finish(state === 'shutdown' ? 0 : 1));

  for (const [operation, factory] of Object.entries(operations)) {
    const method = `lazyimg/${operation}`;
    connection.onRequest(method, (raw: unknown, token: CancellationToken) => {
      if (state === 'new') throw new ResponseError(ErrorCodes.ServerNotInitialized, `${method}: send initialize first`);
      if (state === 'shutdown') throw new ResponseError(ErrorCodes.InvalidRequest, `${method}: the worker is shutting down`);
      const controller = new AbortController();
      const subscription = token.onCancellationRequested(() => controller.abort());
      const job = { controller, done: Promise.resolve() as Promise<unknown> };
      jobs.add(job);
      job.done = (async () => {
        // What the job stores in its destination, which a failure reports: it stays there.
        const written: WrittenContent[] = [];
        let run: OperationRun | undefined;
        try {
          const params = new Params(method, raw);
          run = factory(params);
          const { workDoneToken } = params.job(); // every check before a slot is taken
          await slots.acquire(controller.signal);
          const reporter = new ProgressReporter(connection, workDoneToken, run.title);
          try {
            const result = await run.run({ signal: controller.signal, onProgress: reporter.sink, onEvent: reporter.event, writing: (store) => recordWrites(store, written) });
            reporter.end('done');
            return result;
          } catch (e) {
            reporter.end(controller.signal.aborted ? 'cancelled' : 'failed');
            throw e;
          } finally {
            slots.release();
          }
        } catch (e) {
          // The job has cleaned up by now (its own finally blocks ran): only then is it answered.
          const error = controller.signal.aborted ? new LazyImageError('CANCELLED', 'Cancelled', { cause: e }) : e;
          if (!controller.signal.aborted) log(describeError(error));
          throw toResponseError(error, run?.unrecorded ? undefined : written);
        } finally {
          subscription.dispose();
          jobs.delete(job);
        }
      })();
      return job.done;
    });
  }

  // Methods no handler knows: -32002 until initialized, then -32601.
  connection.onRequest((method: string) => {
    if (state === 'new') throw new ResponseError(ErrorCodes.ServerNotInitialized, `${method}: send initialize first`);
    throw new ResponseError(ErrorCodes.MethodNotFound, `Unknown method ${method}`);
  });

  reader.onClose(() => finish(state === 'shutdown' ? 0 : 1));
  connection.listen();
  return exited;
}

/** Bounds the jobs running at once; waiting for a slot can be cancelled. */
class Slots {
  private busy = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {}

  acquire(signal: AbortSignal): Promise<void> {
    if (this.busy < this.size) {
      this.busy++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const take = (): void => {
        signal.removeEventListener('abort', cancel);
        this.busy++;
        resolve();
      };
      const cancel = (): void => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        reject(new LazyImageError('CANCELLED', 'Cancelled while waiting for a free job slot'));
      };
      this.waiting.push(take);
      signal.addEventListener('abort', cancel, { once: true });
    });
  }

  release(): void {
    this.busy--;
    this.waiting.shift()?.();
  }
}
