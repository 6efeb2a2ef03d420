// A lock between processes: a file created with O_EXCL that names its holder. Node has no flock,
// and a lock the kernel does not release on exit must be recoverable: a lock whose holder has
// died (see owner.ts) is stale and gets removed. Holders keep it for milliseconds (read, write
// and flush one small file), so waiters poll with backoff.
import { randomBytes } from 'node:crypto';
import { open, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { currentOwner, liveness, type Owner } from './owner.js';

export interface LockOptions {
  /** Wait at most this long for a live holder (default 60 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** What the lock guards, for errors: `index.json of oci:./images`. */
  what?: string;
}

interface Stamp extends Owner {
  /** Tells this holding apart from other holdings by the same process. */
  nonce: string;
  since: string;
}

interface Holder {
  /** Undefined while the holder is still writing it, or if it is not ours. */
  stamp: Stamp | undefined;
  ino: number;
  mtimeMs: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** A lock file still empty this long after its creation lost its holder before it wrote a word. */
const UNWRITTEN_STALE_MS = 10_000;
/** Holders on other hosts cannot be checked; none keeps the lock this long. */
const FOREIGN_STALE_MS = 10 * 60_000;
/** A breaker that has not finished after this long has died. */
const BREAKER_STALE_MS = 30_000;
const MAX_DELAY_MS = 200;

/** Suffix of the marker that elects the one process removing a given stale lock. */
export const BREAK_MARKER = '.broken-';

/** Runs `work` holding the lock file at `path`. */
export async function withFileLock<T>(path: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const stamp = await acquire(path, options);
  try {
    return await work();
  } finally {
    await release(path, stamp);
  }
}

async function acquire(path: string, options: LockOptions): Promise<Stamp> {
  const stamp: Stamp = { ...currentOwner(), nonce: randomBytes(8).toString('hex'), since: '' };
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let delay = 2;
  for (;;) {
    throwIfAborted(options.signal, options.what);
    let holder: Holder | undefined;
    try {
      stamp.since = new Date().toISOString();
      if (await create(path, stamp)) return stamp;
      holder = await readHolder(path);
      if (!holder) continue; // released meanwhile
      if (isStale(holder) && (await breakLock(path, holder))) continue;
    } catch (e) {
      throw lockError(`Cannot take the lock ${path}`, e, options);
    }
    if (Date.now() >= deadline) throw timeoutError(path, holder, options);
    // Jitter keeps waiters that started together from polling together.
    await sleep(Math.min(delay * (0.5 + Math.random()), deadline - Date.now()), undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
    delay = Math.min(delay * 2, MAX_DELAY_MS);
  }
}

/** Creates the lock file with our stamp; false if it exists. */
async function create(path: string, stamp: Stamp): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    await handle.writeFile(JSON.stringify(stamp));
  } catch (e) {
    await handle.close();
    await rm(path, { force: true });
    throw e;
  }
  await handle.close();
  return true;
}

async function release(path: string, stamp: Stamp): Promise<void> {
  // Only our own: a lock taken from us as stale (we looked dead) now belongs to someone else.
  const holder = await readHolder(path);
  if (holder?.stamp?.nonce === stamp.nonce) await rm(path, { force: true });
}

async function readHolder(path: string): Promise<Holder | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  // Name and inode from one open file: the path may be another lock by the second look.
  try {
    const info = await handle.stat();
    return { stamp: parseStamp(await handle.readFile('utf8')), ino: info.ino, mtimeMs: info.mtimeMs };
  } finally {
    await handle.close();
  }
}

function parseStamp(text: string): Stamp | undefined {
  try {
    const s = JSON.parse(text) as Partial<Stamp>;
    if (typeof s.pid !== 'number' || typeof s.start !== 'string' || typeof s.host !== 'string' || typeof s.nonce !== 'string') return undefined;
    return { pid: s.pid, start: s.start, host: s.host, nonce: s.nonce, since: String(s.since) };
  } catch {
    return undefined;
  }
}

function isStale(holder: Holder): boolean {
  const age = Date.now() - holder.mtimeMs;
  if (!holder.stamp) return age > UNWRITTEN_STALE_MS;
  const state = liveness(holder.stamp);
  return state === 'dead' || (state === 'unknown' && age > FOREIGN_STALE_MS);
}

/**
 * Removes a stale lock, once; false if another waiter is at it. Two waiters may both find it
 * stale; if both removed "the lock", the second could remove a new one a third process has just
 * taken. So the waiters first elect one remover per stale holding with an O_EXCL marker named
 * after it, and the elected one checks again that the file is still that holding before removing
 * it. Once it has looked, that holding is gone for good, so a waiter elected after it finds
 * nothing to remove: the marker can go.
 */
async function breakLock(path: string, stale: Holder): Promise<boolean> {
  const id = stale.stamp?.nonce ?? `i${stale.ino}-${Math.trunc(stale.mtimeMs)}`;
  const marker = `${path}${BREAK_MARKER}${id}`;
  try {
    await writeFile(marker, '', { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Another waiter removes it; one that died at it left its marker behind: let the next try again.
    const info = await stat(marker).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > BREAKER_STALE_MS) await rm(marker, { force: true });
    return false;
  }
  try {
    // Same inode, stamp and mtime, and still stale: a new lock may reuse the inode of the old one,
    // and an unwritten one has no nonce to tell them apart.
    const now = await readHolder(path);
    if (now && now.ino === stale.ino && now.mtimeMs === stale.mtimeMs && now.stamp?.nonce === stale.stamp?.nonce && isStale(now)) await rm(path, { force: true });
  } finally {
    await rm(marker, { force: true });
  }
  return true;
}

function timeoutError(path: string, holder: Holder, options: LockOptions): LazyImageError {
  const s = holder.stamp;
  const who = s ? `process ${s.pid}${s.host === currentOwner().host ? '' : ' of another machine'} since ${s.since}` : 'a process that has not written its name in it';
  const what = options.what ? `Cannot update ${options.what}: ` : '';
  return new LazyImageError('TIMEOUT', `${what}the lock file ${path} is held by ${who}; if no lazyimg is writing there, remove that file`, { ref: options.what, temporary: true });
}

function lockError(message: string, cause: unknown, options: LockOptions): LazyImageError {
  return new LazyImageError('IO', `${message}${options.what ? ` for ${options.what}` : ''}: ${(cause as Error).message}`, { ref: options.what, cause });
}
