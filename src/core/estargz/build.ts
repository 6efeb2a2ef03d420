// Converts one layer into an eStargz blob. Every payload, and every chunk of a large file, opens a
// gzip member holding it, its padding and the tar headers that follow up to the next payload.
// Members are compressed independently on worker threads (gzipPool.ts) and written in order, so the bytes
// do not depend on how many run at once; the TOC member and the footer close the blob.
//
// With no prioritized files the entries keep their tar order, so one pass suffices: members are
// cut and compressed while the source is still being read (inOrder.ts). That pass gives up if the
// layer has a path twice (the later entry must replace the earlier one in place); then, and with
// prioritized files, a first pass spools and hashes the source (spool.ts), the entries are
// ordered (order.ts), and a second pass cuts members from the spool.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { GzipPool } from './gzipPool.js';
import { buildInOrder } from './inOrder.js';
import { BLOCK, finishBlob, landmarkEntry, MemberWriter, tocEntry, type BuiltLayer, type Member } from './members.js';
import { orderEntries } from './order.js';
import { spoolLayer, type SpooledEntry } from './spool.js';
import { DEFAULT_CHUNK_SIZE, LANDMARK_CONTENT, type TocEntry } from './toc.js';

export type { BuiltLayer } from './members.js';

/** gzip level by default, as the Go converter's. */
export const DEFAULT_GZIP_LEVEL = 9;

export interface BuildOptions {
  /** gzip level 1-9; 9 like the Go converter. */
  level?: number;
  chunkSize?: number;
  /** Paths to put first and prefetch (absolute or relative; they are cleaned). */
  prioritized?: string[];
  signal?: AbortSignal;
  onProgress?: (progress: { phase: 'read' | 'compress'; done: number; total?: number }) => void;
  /** Compression threads shared with other builds; by default the build starts and stops its own. */
  pool?: GzipPool;
  /** The source blob's size, which bounds what it may inflate to. */
  sourceSize?: number;
}

/** `open` gives the source layer's bytes; it is called again if the one-pass path gives up. */
export async function buildEstargz(open: () => Promise<Readable>, workDir: string, where: string, options: BuildOptions = {}): Promise<BuiltLayer> {
  const level = options.level ?? DEFAULT_GZIP_LEVEL;
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new LazyImageError('INVALID_ARGUMENT', `gzip level ${level} is not between 1 and 9`);
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new LazyImageError('INVALID_ARGUMENT', `chunk size ${chunkSize} is not a positive number of bytes`);
  const onRead = (done: number): void => options.onProgress?.({ phase: 'read', done });
  const prioritized = options.prioritized ?? [];
  const pool = options.pool ?? new GzipPool();
  try {
    if (prioritized.length === 0) {
      const built = await buildInOrder(await open(), join(workDir, 'estargz.blob'), where, { level, chunkSize, pool, onRead, size: options.sourceSize, ...(options.signal ? { signal: options.signal } : {}) });
      if (built) return built;
    }
    return await buildTwoPass(await open(), workDir, where, { level, chunkSize, pool, prioritized, onRead, options });
  } finally {
    if (!options.pool) await pool.close();
  }
}

async function buildTwoPass(
  source: Readable, workDir: string, where: string,
  { level, chunkSize, pool, prioritized, onRead, options }: { level: number; chunkSize: number; pool: GzipPool; prioritized: string[]; onRead: (done: number) => void; options: BuildOptions },
): Promise<BuiltLayer> {
  const spoolFile = join(workDir, 'spool.tar');
  const spooled = await spoolLayer(source, spoolFile, where, { chunkSize, size: options.sourceSize, ...(options.signal ? { signal: options.signal } : {}), onRead });
  const { order, landmark, missing } = await orderEntries(spooled.entries, prioritized, where);
  const file = join(workDir, 'estargz.blob');
  const spool = await open(spoolFile, 'r');
  const writer = new MemberWriter(file, level, pool, spool, options.signal, where);
  try {
    const payloadTotal = spooled.entries.reduce((n, e) => n + e.header.size, 0);
    const toc = await writeMembers(order, landmark, chunkSize, writer, (done) => {
      throwIfAborted(options.signal, where);
      options.onProgress?.({ phase: 'compress', done, total: payloadTotal });
    });
    const result = await finishBlob(writer, toc);
    return { file, ...result, sourceCompression: spooled.compression, entries: toc.length, missing, passes: 2 };
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
  return toc;
}

