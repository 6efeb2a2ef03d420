// Parallel gzip on worker threads. An eStargz layer is thousands of small gzip members; handing each
// to libuv's thread pool costs more CPU in bookkeeping than compressing a small file does, so members
// submitted together travel to a thread as one batch and come back the same way.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { LazyImageError } from '../errors.js';

/** A batch sent to a thread: the members' bytes end to end, and each one's length. */
export interface GzipBatch {
  id: number;
  level: number;
  data: ArrayBuffer;
  lengths: number[];
}

export type GzipResult = { id: number; data: ArrayBuffer; lengths: number[] } | { id: number; error: string };

/** A batch is sent once it holds this many bytes, or when the submitting code yields. */
const BATCH_BYTES = 1024 * 1024;

interface Pending {
  parts: Buffer[];
  length: number;
  level: number;
  resolve: (b: Buffer) => void;
  reject: (e: unknown) => void;
}

interface Thread {
  worker: Worker;
  /** Bytes sent and not yet returned: the next batch goes to the least loaded thread. */
  load: number;
  batches: Map<number, { members: Pending[]; bytes: number }>;
}

export class GzipPool {
  private readonly threads: Thread[] = [];
  /** Small members waiting for the next batch, by level. */
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private scheduled = false;
  private nextId = 0;
  private failure: Error | undefined;

  constructor(size = availableParallelism()) {
    for (let i = 0; i < size; i++) this.threads.push(this.start());
  }

  /**
   * The gzip member of the bytes of `parts` end to end, the same whatever the thread count. The
   * parts are copied once, into the batch, unless a large member is one buffer that owns its whole
   * memory: that one is moved to the thread and must not be used afterwards.
   */
  gzip(parts: Buffer[], level: number): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const member = { parts, length: parts.reduce((n, p) => n + p.length, 0), level, resolve, reject };
      if (member.length >= BATCH_BYTES) {
        const only = parts.length === 1 ? parts[0]! : undefined;
        this.dispatch([member], level, only && only.byteOffset === 0 && only.buffer.byteLength === only.length ? only : concat([member]));
        return;
      }
      if (this.pending.length && this.pending[0]!.level !== level) this.send();
      this.pending.push(member);
      this.pendingBytes += member.length;
      if (this.pendingBytes >= BATCH_BYTES) this.send();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.send());
      }
    });
  }

  /** Stops the threads; compressions still running are rejected. */
  async close(): Promise<void> {
    this.fail(new LazyImageError('CANCELLED', 'the compression threads were stopped'));
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private start(): Thread {
    // Next to this module both in `out/` and in the `dist/` bundles, which bundle it as its own entry.
    const worker = new Worker(join(__dirname, 'gzipWorker.js'));
    const thread: Thread = { worker, load: 0, batches: new Map() };
    worker.on('message', (result: GzipResult) => this.receive(thread, result));
    worker.on('error', (e) => this.fail(new LazyImageError('INTERNAL', `a compression thread failed: ${e.message}`)));
    worker.on('exit', (code) => this.fail(new LazyImageError('INTERNAL', `a compression thread exited (code ${code})`)));
    return thread;
  }

  private send(): void {
    this.scheduled = false;
    if (!this.pending.length) return;
    const members = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.dispatch(members, members[0]!.level, concat(members));
  }

  /** Moves `data` (the members end to end, owning its memory) to the least loaded thread. */
  private dispatch(members: Pending[], level: number, data: Buffer): void {
    const thread = this.threads.reduce((a, b) => (b.load < a.load ? b : a));
    const id = this.nextId++;
    thread.batches.set(id, { members, bytes: data.length });
    thread.load += data.length;
    const batch: GzipBatch = { id, level, data: data.buffer as ArrayBuffer, lengths: members.map((m) => m.length) };
    thread.worker.postMessage(batch, [batch.data]);
  }

  private receive(thread: Thread, result: GzipResult): void {
    const batch = thread.batches.get(result.id);
    if (!batch) return;
    thread.batches.delete(result.id);
    thread.load -= batch.bytes;
    if ('error' in result) {
      for (const m of batch.members) m.reject(new LazyImageError('INTERNAL', `gzip failed: ${result.error}`));
      return;
    }
    const out = Buffer.from(result.data);
    let at = 0;
    result.lengths.forEach((length, i) => {
      batch.members[i]!.resolve(out.subarray(at, at + length));
      at += length;
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const m of this.pending) m.reject(this.failure);
    this.pending = [];
    this.pendingBytes = 0;
    for (const t of this.threads) {
      for (const b of t.batches.values()) for (const m of b.members) m.reject(this.failure);
      t.batches.clear();
    }
  }
}

/** The members' bytes end to end, in memory of their own (so it can be moved to a thread). */
function concat(members: Pending[]): Buffer {
  const out = Buffer.allocUnsafeSlow(members.reduce((n, m) => n + m.length, 0));
  let at = 0;
  for (const m of members) for (const p of m.parts) at += p.copy(out, at);
  return out;
}
