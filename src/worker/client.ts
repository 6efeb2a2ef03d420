// The client side of the worker protocol: starts a worker command, initializes it, sends
// operation requests with progress and cancellation, and turns a worker that dies into a clear
// failure of the requests it was running. The next request starts a fresh worker.
import { spawn, type ChildProcess } from 'node:child_process';
import { CancellationTokenSource, ResponseError, StreamMessageReader, StreamMessageWriter, createMessageConnection, type MessageConnection } from 'vscode-jsonrpc/node';
import { LazyImageError, type ErrorCode } from '../core/errors.js';
import type { WrittenContent } from '../core/oci/index.js';
import { ErrorCodes, Methods, PROTOCOL_VERSION, type ErrorData, type InitializeResult, type ProgressParams, type ProgressValue, type WorkerCapabilities } from './protocol.js';

export interface WorkerCommand {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

export interface WorkerClientOptions {
  worker: WorkerCommand;
  clientName: string;
  maxConcurrentJobs?: number;
  /** Each line the worker writes to stderr. */
  onLog?: (line: string) => void;
  /** The worker process ended; `expected` is false for a crash. */
  onExit?: (reason: string, expected: boolean) => void;
}

export interface RequestOptions {
  signal?: AbortSignal;
  onProgress?: (value: ProgressValue) => void;
}

interface Running {
  process: ChildProcess;
  connection: MessageConnection;
  ready: Promise<InitializeResult>;
  /** Why the process ended, once it has. */
  exit: Promise<string>;
  stopping: boolean;
}

const STOP_TIMEOUT_MS = 5000;
/** vscode-jsonrpc's own codes for a connection that failed or closed (not from the worker). */
const CONNECTION_ERRORS = { min: -32099, max: -32090 };

export class WorkerClient {
  private running: Running | undefined;
  private nextToken = 1;
  private readonly progress = new Map<string, (value: ProgressValue) => void>();
  private info: InitializeResult | undefined;
  private active = 0;

  constructor(private readonly options: WorkerClientOptions) {}

  /** What the worker said it can do, once it has started. */
  get capabilities(): WorkerCapabilities | undefined {
    return this.info?.capabilities;
  }

  /** Starts the worker if it is not running; resolves once it is initialized. */
  start(): Promise<InitializeResult> {
    this.running ??= this.spawn();
    return this.running.ready;
  }

  private spawn(): Running {
    const { worker } = this.options;
    const child = spawn(worker.command, worker.args, { stdio: ['pipe', 'pipe', 'pipe'], env: worker.env ?? process.env });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    connection.onNotification(Methods.progress, (params: ProgressParams) => this.progress.get(String(params.token))?.(params.value));
    child.stderr.setEncoding('utf8');
    let pending = '';
    child.stderr.on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) this.options.onLog?.(line);
    });
    child.stdin.on('error', () => undefined); // a dead worker's stdin: reported through `exit`
    const running: Running = {
      process: child,
      connection,
      stopping: false,
      exit: new Promise((resolve) => {
        child.once('error', (e) => resolve(`it could not be started: ${e.message}`));
        child.once('exit', (code, signal) => resolve(signal ? `it was killed by ${signal}` : `it exited with code ${code}`));
      }),
      ready: Promise.resolve() as unknown as Promise<InitializeResult>,
    };
    void running.exit.then((reason) => {
      if (this.running === running) this.running = undefined;
      connection.dispose();
      this.options.onExit?.(reason, running.stopping);
    });
    connection.listen();
    running.ready = this.initialize(running);
    return running;
  }

  private async initialize(running: Running): Promise<InitializeResult> {
    try {
      const result = await this.send<InitializeResult>(running, Methods.initialize, {
        protocolVersion: PROTOCOL_VERSION,
        clientInfo: { name: this.options.clientName },
        ...(this.options.maxConcurrentJobs ? { maxConcurrentJobs: this.options.maxConcurrentJobs } : {}),
      });
      if (!result || !Array.isArray(result.capabilities?.operations)) throw new LazyImageError('INTERNAL', 'The worker answered initialize without capabilities');
      if (String(result.protocolVersion).split('.')[0] !== PROTOCOL_VERSION.split('.')[0]) {
        throw new LazyImageError('UNSUPPORTED', `The worker speaks protocol ${String(result.protocolVersion)}; this client speaks ${PROTOCOL_VERSION}`);
      }
      void running.connection.sendNotification(Methods.initialized, {});
      this.info = result;
      return result;
    } catch (e) {
      running.process.kill();
      throw e;
    }
  }

  /** Requests sent and not yet settled. */
  get activeRequests(): number {
    return this.active;
  }

  /** Sends an operation request; progress arrives through `onProgress` until it settles. */
  async request<R>(method: string, params: object, options: RequestOptions = {}): Promise<R> {
    this.active++;
    const token = `${process.pid}-${this.nextToken++}`;
    try {
      await this.start();
      const running = this.running;
      if (!running) throw new LazyImageError('INTERNAL', `Cannot run ${method}: the worker stopped while starting`);
      if (options.onProgress) this.progress.set(token, options.onProgress);
      return await this.send<R>(running, method, { ...params, workDoneToken: token }, options.signal);
    } finally {
      this.progress.delete(token);
      this.active--;
    }
  }

  private async send<R>(running: Running, method: string, params: object, signal?: AbortSignal): Promise<R> {
    const source = new CancellationTokenSource();
    const cancel = (): void => source.cancel();
    if (signal?.aborted) cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      // Whichever comes first: the answer, or the worker's death.
      return await Promise.race([
        running.connection.sendRequest<R>(method, params, source.token),
        running.exit.then((reason) => {
          throw new LazyImageError('INTERNAL', `The worker stopped during ${method}: ${reason}`, { temporary: true });
        }),
      ]);
    } catch (e) {
      // vscode-jsonrpc rejects pending requests with its own reserved codes when the pipe breaks.
      const connectionLost = !(e instanceof ResponseError) || (e.code >= CONNECTION_ERRORS.min && e.code <= CONNECTION_ERRORS.max);
      if (e instanceof LazyImageError) throw e;
      if (!connectionLost) throw fromResponseError(e as ResponseError<unknown>);
      throw new LazyImageError('INTERNAL', `The worker stopped during ${method}: ${await Promise.race([running.exit, delay(1000, 'the connection closed')])}`, { cause: e, temporary: true });
    } finally {
      signal?.removeEventListener('abort', cancel);
      source.dispose();
    }
  }

  /** `shutdown`, then `exit`; kills the worker if it does not leave in time. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.stopping = true;
    try {
      await Promise.race([running.connection.sendRequest(Methods.shutdown), delay(STOP_TIMEOUT_MS, undefined)]);
      void running.connection.sendNotification(Methods.exit);
    } catch {
      // Already gone: nothing to shut down.
    }
    const left = await Promise.race([running.exit.then(() => true), delay(STOP_TIMEOUT_MS, false)]);
    if (!left) running.process.kill('SIGKILL');
    await running.exit;
  }

  /** The worker's process id, while it runs. */
  get pid(): number | undefined {
    return this.running?.process.pid;
  }
}

const CODE_OF: Record<number, ErrorCode> = {
  [ErrorCodes.RequestCancelled]: 'CANCELLED',
  [ErrorCodes.AuthenticationRequired]: 'UNAUTHORIZED',
  [ErrorCodes.RegistryError]: 'REGISTRY',
  [ErrorCodes.InvalidInput]: 'INVALID_ARGUMENT',
  [ErrorCodes.InvalidParams]: 'INVALID_ARGUMENT',
};

/** A worker's error as a core error: `data.code` when the worker sent one, else from the number. */
export function fromResponseError(e: ResponseError<unknown>): LazyImageError {
  const data = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Partial<ErrorData>;
  const code = typeof data.code === 'string' ? data.code : CODE_OF[e.code] ?? 'INTERNAL';
  // The worker's error stays the cause, for what its data says beyond the classification.
  return new LazyImageError(code, e.message, { ...(data.ref ? { ref: data.ref } : {}), temporary: data.temporary === true, cause: e });
}

/**
 * What a failed request's job left in its destination (`data.written`, since 1.7), if the worker
 * said so in a shape that makes sense; undefined from an older worker.
 */
export function writtenBefore(e: unknown): WrittenContent[] | undefined {
  const cause = e instanceof LazyImageError ? e.cause : undefined;
  const written = cause instanceof ResponseError ? (cause.data as Partial<ErrorData> | undefined)?.written : undefined;
  if (!Array.isArray(written)) return undefined;
  const valid = written.every((w: Partial<WrittenContent> | null) => typeof w?.digest === 'string' && typeof w.size === 'number' && typeof w.mediaType === 'string' && (w.tag === undefined || typeof w.tag === 'string'));
  return valid ? written : undefined;
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}
