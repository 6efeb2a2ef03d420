// What both conversion paths share: gzip members and the writer that compresses them in parallel
// and writes them in order, and the TOC entry of a tar entry.
import { createWriteStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { Digester, sha256 } from '../oci/index.js';
import { tarHeaderBlock } from '../tar/index.js';
import { footerBytes } from './footer.js';
import type { GzipPool } from './gzipPool.js';
import type { SpooledEntry } from './spool.js';
import { formatModtime, LANDMARK_CONTENT, serializeToc, TOC_TAR_NAME, type TocEntry } from './toc.js';

export const BLOCK = 512;
/** Uncompressed bytes handed to the compressors and not yet written out. */
const MAX_IN_FLIGHT_BYTES = 12 * 1024 * 1024;
const MAX_IN_FLIGHT_MEMBERS = 256;

export interface BuiltLayer {
  /** The eStargz blob, in the work directory given. */
  file: string;
  digest: string;
  size: number;
  diffId: string;
  tocDigest: string;
  uncompressedSize: number;
  sourceCompression: 'gzip' | 'zstd' | 'none';
  entries: number;
  /** Prioritized paths that are not in this layer. */
  missing: string[];
  /** How many times the source was read: 1, or 2 when entries had to move. */
  passes: 1 | 2;
}

/** One gzip member: its uncompressed pieces, and the TOC entries whose `offset` is its start. */
export interface Member {
  parts: Array<Buffer | { at: number; length: number }>;
  length: number;
  starts: TocEntry[];
}


/** Closes a blob: the TOC (as the tar entry `stargz.index.json` and the end-of-archive blocks) and the footer. */
export async function finishBlob(writer: MemberWriter, toc: TocEntry[]): Promise<{ digest: string; size: number; diffId: string; uncompressedSize: number; tocDigest: string }> {
  await writer.drain();
  const json = serializeToc({ version: 1, entries: toc });
  const tocHeader = tarHeaderBlock({ name: TOC_TAR_NAME, size: json.length, mode: 0, typeflag: '0' });
  const tocPad = Buffer.alloc((BLOCK - (json.length % BLOCK)) % BLOCK + 2 * BLOCK);
  return { ...(await writer.finish(Buffer.concat([tocHeader, json, tocPad]))), tocDigest: sha256(json) };
}

export function landmarkEntry(name: string): SpooledEntry {
  const header = { name, type: 'reg' as const, mode: 0, uid: 0, gid: 0, uname: '', gname: '', size: 1, declaredSize: 1, mtime: { seconds: 0, nanos: 0 }, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map(), pax: new Map() };
  const digest = sha256(LANDMARK_CONTENT);
  return { header, raw: tarHeaderBlock({ name, size: 1, mode: 0, typeflag: '0' }), dataOffset: -1, digest, chunkDigests: [digest] };
}

/** The TOC entry of a tar entry; user and group names only where they change, as Go writes them. */
export function tocEntry(e: SpooledEntry, names: { user: Map<number, string>; group: Map<number, string> }): TocEntry {
  const h = e.header;
  const entry: TocEntry = { name: h.name, type: h.type };
  if (h.type === 'reg') entry.size = h.size;
  const modtime = formatModtime(h.mtime.seconds, h.mtime.nanos);
  if (modtime) entry.modtime = modtime;
  if (h.type === 'symlink' || h.type === 'hardlink') entry.linkName = h.linkname;
  entry.mode = h.mode;
  entry.uid = h.uid;
  entry.gid = h.gid;
  const userName = changedName(names.user, h.uid, h.uname);
  if (userName) entry.userName = userName;
  const groupName = changedName(names.group, h.gid, h.gname);
  if (groupName) entry.groupName = groupName;
  if (h.type === 'char' || h.type === 'block') {
    entry.devMajor = h.devmajor;
    entry.devMinor = h.devminor;
  }
  if (h.xattrs.size) entry.xattrs = h.xattrs;
  if (h.type === 'reg' && e.digest) entry.digest = e.digest;
  return entry;
}

function changedName(seen: Map<number, string>, id: number, name: string): string | undefined {
  if (!name || seen.get(id) === name) return undefined;
  seen.set(id, name);
  return name;
}

/**
 * Compresses members on worker threads and writes them in order, hashing the uncompressed stream (the
 * new DiffID) and the blob as they pass. Memory is bounded by the bytes in flight.
 */
export class MemberWriter {
  private readonly out;
  private readonly closed;
  private readonly blob = new Digester();
  private readonly diff = new Digester();
  private offset = 0;
  private readonly queue: Array<{ member: Member; compressed: Promise<Buffer>; done: boolean }> = [];
  private inFlight = 0;
  private failure: unknown;

  constructor(file: string, private readonly level: number, private readonly pool: GzipPool, private readonly spool: FileHandle | undefined, private readonly signal: AbortSignal | undefined, private readonly where: string) {
    this.out = createWriteStream(file);
    // Errors are kept in `failure`; closing (after an abort too) only has to be waited for.
    this.closed = once(this.out, 'close').catch(() => undefined);
    this.out.on('error', (e) => {
      this.failure ??= e;
    });
  }

  async submit(member: Member): Promise<void> {
    if (this.failure) throw this.failure;
    const data = await this.read(member);
    for (const part of data) this.diff.update(part);
    this.inFlight += member.length;
    const job = { member, compressed: this.pool.gzip(data, this.level), done: false };
    job.compressed.then(() => (job.done = true), () => (job.done = true));
    this.queue.push(job);
    await this.flush(this.inFlight > MAX_IN_FLIGHT_BYTES || this.queue.length > MAX_IN_FLIGHT_MEMBERS);
  }

  /** Writes the finished members at the head of the queue; with `wait`, at least the first one. */
  private async flush(wait: boolean): Promise<void> {
    while (this.queue.length && (wait || this.queue[0]!.done)) {
      const head = this.queue.shift()!;
      const bytes = await head.compressed;
      this.inFlight -= head.member.length;
      for (const entry of head.member.starts) entry.offset = this.offset;
      await this.write(bytes);
      wait = this.inFlight > MAX_IN_FLIGHT_BYTES || this.queue.length > MAX_IN_FLIGHT_MEMBERS;
    }
  }

  /** Writes every member submitted so far, so their TOC entries have offsets. */
  async drain(): Promise<void> {
    while (this.queue.length) await this.flush(true);
  }

  async finish(tocTar: Buffer): Promise<{ digest: string; size: number; diffId: string; uncompressedSize: number }> {
    await this.drain();
    const tocOffset = this.offset;
    this.diff.update(tocTar);
    await this.write(await this.pool.gzip([tocTar], this.level));
    await this.write(footerBytes(tocOffset));
    this.out.end();
    await this.closed;
    if (this.failure) throw this.failure;
    return { digest: this.blob.digest(), size: this.blob.size, diffId: this.diff.digest(), uncompressedSize: this.diff.size };
  }

  /** Stops writing after a failure; pending compressions are left to finish on their own. */
  async abort(): Promise<void> {
    for (const job of this.queue) job.compressed.catch(() => undefined);
    this.queue.length = 0;
    this.out.destroy();
    await this.closed;
  }

  private async write(bytes: Buffer): Promise<void> {
    throwIfAborted(this.signal, this.where);
    this.blob.update(bytes);
    this.offset += bytes.length;
    if (!this.out.write(bytes)) await once(this.out, 'drain');
  }

  /** The member's bytes: its own buffers as they are, or one buffer read from the spool. */
  private async read(member: Member): Promise<Buffer[]> {
    if (member.parts.every((p) => Buffer.isBuffer(p))) return member.parts as Buffer[];
    const out = Buffer.allocUnsafe(member.length);
    let at = 0;
    for (const part of member.parts) {
      if (Buffer.isBuffer(part)) {
        part.copy(out, at);
      } else {
        const { bytesRead } = await this.spool!.read(out, at, part.length, part.at);
        if (bytesRead !== part.length) throw new LazyImageError('IO', `${this.where}: the spooled layer is shorter than its tar headers say`);
      }
      at += part.length;
    }
    return [out];
  }
}
