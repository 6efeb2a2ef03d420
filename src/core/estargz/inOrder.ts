// The one-pass conversion, for layers whose entries keep their tar order: members are cut while
// the source streams in and compressed right away, so reading overlaps compression and nothing is
// spooled. It gives up (returns undefined) on a path that comes twice or a name the format
// reserves, because the Go converter drops the earlier entry, which would change members already
// written; the caller then converts in two passes.
import type { Readable } from 'node:stream';
import { throwIfAborted } from '../errors.js';
import { cleanEntryName, TarParser, type TarHeader } from '../tar/index.js';
import { FileDigests } from './digests.js';
import type { GzipPool } from './gzipPool.js';
import { BLOCK, finishBlob, landmarkEntry, MemberWriter, tocEntry, type BuiltLayer, type Member } from './members.js';
import { decompressed, wrapDecompressError } from './spool.js';
import { LANDMARK_CONTENT, NO_PREFETCH_LANDMARK, PREFETCH_LANDMARK, TOC_TAR_NAME, type TocEntry } from './toc.js';

const RESERVED = new Set([TOC_TAR_NAME, PREFETCH_LANDMARK, NO_PREFETCH_LANDMARK]);

export interface InOrderOptions {
  level: number;
  chunkSize: number;
  pool: GzipPool;
  signal?: AbortSignal;
  onRead?: (bytes: number) => void;
  /** The source blob's size, which bounds what it may inflate to. */
  size?: number;
}

export async function buildInOrder(source: Readable, file: string, where: string, options: InOrderOptions): Promise<BuiltLayer | undefined> {
  const writer = new MemberWriter(file, options.level, options.pool, undefined, options.signal, where);
  const cutter = new Cutter(options.chunkSize);
  const landmark = landmarkEntry(NO_PREFETCH_LANDMARK);
  cutter.entry(landmark.header, landmark.raw);
  cutter.data(LANDMARK_CONTENT);
  const seen = new Set<string>();
  let reordered = false;
  const parser = new TarParser({
    entry(header, raw) {
      const name = cleanEntryName(header.name);
      if (RESERVED.has(name) || seen.has(name)) reordered = true;
      seen.add(name);
      if (!reordered) cutter.entry(header, raw);
    },
    data(chunk) {
      if (!reordered) cutter.data(chunk);
    },
  }, where);

  const { stream, compression } = await decompressed(source, where, options);
  try {
    for await (const chunk of stream) {
      throwIfAborted(options.signal, where);
      if (!parser.ended) parser.push(chunk as Buffer);
      // Waiting for the writer here is the backpressure that bounds the members in flight.
      for (const member of cutter.ready.splice(0)) await writer.submit(member);
      if (reordered) break;
    }
    if (reordered) {
      stream.destroy();
      await writer.abort();
      return undefined;
    }
    parser.finish();
    cutter.close();
    for (const member of cutter.ready.splice(0)) await writer.submit(member);
    const result = await finishBlob(writer, cutter.toc);
    return { file, ...result, sourceCompression: compression, entries: cutter.toc.length, missing: [], passes: 1 };
  } catch (e) {
    stream.destroy();
    await writer.abort();
    throw wrapDecompressError(e, where, compression);
  }
}

/**
 * Cuts the tar stream into members as it arrives: a member closes where a payload or a chunk
 * starts. The TOC entries are built alongside; digests are filled in as payloads complete.
 */
class Cutter {
  readonly toc: TocEntry[] = [];
  /** Members complete and not yet handed to the writer. */
  readonly ready: Member[] = [];
  private member: Member = { parts: [], length: 0, starts: [] };
  private readonly names = { user: new Map<number, string>(), group: new Map<number, string>() };
  private file: { header: TarHeader; entry: TocEntry; pieces: TocEntry[]; digests: FileDigests; inChunk: number; done: number } | undefined;

  constructor(private readonly chunkSize: number) {}

  entry(header: TarHeader, raw: Buffer): void {
    this.append(raw);
    const entry = tocEntry({ header, raw, dataOffset: -1 }, this.names);
    this.toc.push(entry);
    if (header.type !== 'reg') return;
    if (header.size === 0) {
      entry.digest = new FileDigests(0, this.chunkSize).finish().digest;
      return;
    }
    this.file = { header, entry, pieces: [entry], digests: new FileDigests(header.size, this.chunkSize), inChunk: 0, done: 0 };
    this.startPiece(entry);
  }

  data(chunk: Buffer): void {
    const f = this.file;
    if (!f) return;
    f.digests.update(chunk);
    let at = 0;
    while (at < chunk.length) {
      const take = Math.min(this.chunkSize - f.inChunk, chunk.length - at);
      this.append(chunk.subarray(at, at + take));
      f.inChunk += take;
      f.done += take;
      at += take;
      if (f.done === f.header.size) {
        this.endFile();
        return;
      }
      if (f.inChunk === this.chunkSize) {
        f.inChunk = 0;
        const piece: TocEntry = { name: f.header.name, type: 'chunk', chunkOffset: f.done };
        f.pieces.push(piece);
        this.toc.push(piece);
        this.startPiece(piece);
      }
    }
  }

  /** The headers after the last payload form the last member. */
  close(): void {
    if (this.member.length) this.ready.push(this.member);
    this.member = { parts: [], length: 0, starts: [] };
  }

  private endFile(): void {
    const f = this.file!;
    const { digest, chunkDigests } = f.digests.finish();
    f.entry.digest = digest;
    f.pieces.forEach((piece, i) => (piece.chunkDigest = chunkDigests[i]!));
    const pad = (BLOCK - (f.header.size % BLOCK)) % BLOCK;
    if (pad) this.append(Buffer.alloc(pad));
    this.file = undefined;
  }

  /** A payload piece opens a new member. */
  private startPiece(piece: TocEntry): void {
    const f = this.file!;
    if (Math.min(this.chunkSize, f.header.size - f.done) === this.chunkSize) piece.chunkSize = this.chunkSize;
    this.close();
    this.member.starts.push(piece);
  }

  private append(part: Buffer): void {
    this.member.parts.push(part);
    this.member.length += part.length;
  }
}
