// Converts one layer into an eStargz blob. Pass one spools and hashes the source (spool.ts); pass
// two lays the entries out (order.ts) and cuts the tar stream into gzip members: one starting at
// every payload piece, holding that piece, its padding and the headers that follow up to the next
// payload. Members are compressed independently on libuv's thread pool and written in order, so the
// output bytes do not depend on how many run at once. The TOC member and the footer close the blob.
import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Readable } from 'node:stream';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { Digester, sha256 } from '../oci/digest.js';
import { tarHeaderBlock } from '../tar/writer.js';
import { footerBytes } from './footer.js';
import { orderEntries } from './order.js';
import { spoolLayer, type Compression, type SpooledEntry } from './spool.js';
import { DEFAULT_CHUNK_SIZE, formatModtime, LANDMARK_CONTENT, serializeToc, TOC_TAR_NAME, type TocEntry } from './toc.js';

const gzip = promisify(gzipCallback);
const BLOCK = 512;
/** Uncompressed bytes handed to the compressors and not yet written out. */
const MAX_IN_FLIGHT_BYTES = 24 * 1024 * 1024;
const MAX_IN_FLIGHT_MEMBERS = 256;

export interface BuildOptions {
  /** gzip level 1-9; 9 like the Go converter. */
  level?: number;
  chunkSize?: number;
  /** Paths to put first and prefetch (absolute or relative; they are cleaned). */
  prioritized?: string[];
  signal?: AbortSignal;
  onProgress?: (progress: { phase: 'read' | 'compress'; done: number; total?: number }) => void;
}

export interface BuiltLayer {
  /** The eStargz blob, in the work directory given. */
  file: string;
  digest: string;
  size: number;
  diffId: string;
  tocDigest: string;
  uncompressedSize: number;
  sourceCompression: Compression;
  entries: number;
  /** Prioritized paths that are not in this layer. */
  missing: string[];
}

/** One gzip member: its uncompressed pieces, and the TOC entries whose `offset` is its start. */
interface Member {
  parts: Array<Buffer | { at: number; length: number }>;
  length: number;
  starts: TocEntry[];
}

export async function buildEstargz(source: Readable, workDir: string, where: string, options: BuildOptions = {}): Promise<BuiltLayer> {
  const level = options.level ?? 9;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new LazyImageError('INVALID_ARGUMENT', `gzip level ${level} is not between 1 and 9`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new LazyImageError('INVALID_ARGUMENT', `chunk size ${chunkSize} is not a positive number of bytes`);
  const spoolFile = join(workDir, 'spool.tar');
  const spooled = await spoolLayer(source, spoolFile, where, {
    chunkSize,
    ...(options.signal ? { signal: options.signal } : {}),
    onRead: (done) => options.onProgress?.({ phase: 'read', done }),
  });
  const { order, landmark, missing } = orderEntries(spooled.entries, options.prioritized ?? []);

  const file = join(workDir, 'estargz.blob');
  const spool = await open(spoolFile, 'r');
  const writer = new MemberWriter(file, level, spool, options.signal, where);
  try {
    const payloadTotal = spooled.entries.reduce((n, e) => n + e.header.size, 0);
    const toc = await writeMembers(order, landmark, chunkSize, writer, (done) => {
      throwIfAborted(options.signal, where);
      options.onProgress?.({ phase: 'compress', done, total: payloadTotal });
    });
    const json = serializeToc({ version: 1, entries: toc });
    const tocHeader = tarHeaderBlock({ name: TOC_TAR_NAME, size: json.length, mode: 0, typeflag: '0' });
    const tocPad = Buffer.alloc((BLOCK - (json.length % BLOCK)) % BLOCK + 2 * BLOCK);
    const result = await writer.finish(Buffer.concat([tocHeader, json, tocPad]));
    return { file, ...result, tocDigest: sha256(json), sourceCompression: spooled.compression, entries: toc.length, missing };
  } catch (e) {
    await writer.abort();
    throw e;
  } finally {
    await spool.close();
  }
}

/**
 * Cuts the entries into gzip members and hands them to the writer; returns the TOC entries, whose
 * offsets the writer fills in as members land.
 */
async function writeMembers(order: Array<SpooledEntry | 'landmark'>, landmark: string, chunkSize: number, writer: MemberWriter, onPayload: (done: number) => void): Promise<TocEntry[]> {
  const toc: TocEntry[] = [];
  const names = { user: new Map<number, string>(), group: new Map<number, string>() };
  let member: Member = { parts: [], length: 0, starts: [] };
  const append = (part: Member['parts'][number]): void => {
    member.parts.push(part);
    member.length += part.length;
  };
  const startMember = async (): Promise<void> => {
    if (member.length > 0) await writer.submit(member);
    member = { parts: [], length: 0, starts: [] };
  };
  let payloadDone = 0;
  for (const item of order) {
    const e: SpooledEntry = item === 'landmark' ? landmarkEntry(landmark) : item;
    const h = e.header;
    append(e.raw);
    const entry = tocEntry(e, names);
    if (h.type !== 'reg' || h.size === 0) {
      toc.push(entry);
      continue;
    }
    // A payload opens a member; so does each further chunk of a large file.
    for (let i = 0, written = 0; written < h.size; i++) {
      const length = Math.min(chunkSize, h.size - written);
      const piece: TocEntry = i === 0 ? entry : { name: h.name, type: 'chunk' };
      if (i > 0) piece.chunkOffset = written;
      if (length === chunkSize) piece.chunkSize = length;
      piece.chunkDigest = e.chunkDigests![i]!;
      toc.push(piece);
      await startMember();
      member.starts.push(piece);
      append(item === 'landmark' ? LANDMARK_CONTENT : { at: e.dataOffset + written, length });
      written += length;
      onPayload((payloadDone += length));
    }
    const pad = (BLOCK - (h.size % BLOCK)) % BLOCK;
    if (pad) append(Buffer.alloc(pad));
  }
  await startMember();
  await writer.drain();
  return toc;
}

function landmarkEntry(name: string): SpooledEntry {
  const header = { name, type: 'reg' as const, mode: 0, uid: 0, gid: 0, uname: '', gname: '', size: 1, mtime: { seconds: 0, nanos: 0 }, linkname: '', devmajor: 0, devminor: 0, xattrs: new Map() };
  const digest = sha256(LANDMARK_CONTENT);
  return { header, raw: tarHeaderBlock({ name, size: 1, mode: 0, typeflag: '0' }), dataOffset: -1, digest, chunkDigests: [digest] };
}

/** The TOC entry of a tar entry; user and group names only where they change, as Go writes them. */
function tocEntry(e: SpooledEntry, names: { user: Map<number, string>; group: Map<number, string> }): TocEntry {
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
  if (h.type === 'reg') entry.digest = e.digest!;
  return entry;
}

function changedName(seen: Map<number, string>, id: number, name: string): string | undefined {
  if (!name || seen.get(id) === name) return undefined;
  seen.set(id, name);
  return name;
}

/**
 * Compresses members concurrently and writes them in order, hashing the uncompressed stream (the
 * new DiffID) and the blob as they pass. Memory is bounded by the bytes in flight.
 */
class MemberWriter {
  private readonly out;
  private readonly closed;
  private readonly blob = new Digester();
  private readonly diff = new Digester();
  private offset = 0;
  private readonly queue: Array<{ member: Member; compressed: Promise<Buffer>; done: boolean }> = [];
  private inFlight = 0;
  private failure: unknown;

  constructor(file: string, private readonly level: number, private readonly spool: FileHandle, private readonly signal: AbortSignal | undefined, private readonly where: string) {
    this.out = createWriteStream(file);
    this.closed = once(this.out, 'close');
    this.out.on('error', (e) => {
      this.failure ??= e;
    });
  }

  async submit(member: Member): Promise<void> {
    if (this.failure) throw this.failure;
    const data = await this.read(member);
    this.diff.update(data);
    this.inFlight += data.length;
    const job = { member, compressed: gzip(data, { level: this.level }), done: false };
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
    await this.write(await gzip(tocTar, { level: this.level }));
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

  private async read(member: Member): Promise<Buffer> {
    const out = Buffer.allocUnsafe(member.length);
    let at = 0;
    for (const part of member.parts) {
      if (Buffer.isBuffer(part)) {
        part.copy(out, at);
      } else {
        const { bytesRead } = await this.spool.read(out, at, part.length, part.at);
        if (bytesRead !== part.length) throw new LazyImageError('IO', `${this.where}: the spooled layer is shorter than its tar headers say`);
      }
      at += part.length;
    }
    return out;
  }
}
