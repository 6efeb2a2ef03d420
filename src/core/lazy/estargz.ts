// An eStargz layer's files: listed from its TOC (read with two range reads: footer, then TOC), and
// read through the gzip members that hold a file's chunks, each chunk checked against its digest.
import { LazyImageError, throwIfAborted } from '../errors.js';
import { describeLayout, inflateChunks, memberProblem, mountCheck, openEstargz, PREFETCH_LANDMARK, verifyChunks, verifyTarHeaders, type ChunkRef, type InflatedChunk, type Member, type OpenedEstargz, type TocEntry, type TocLayout } from '../estargz/index.js';
import { count, formatBytes } from '../format.js';
import type { BlobAccess, CallOptions, Descriptor } from '../oci/index.js';
import { cleanEntryName } from '../tar/index.js';
import type { ContentCheck, LayerEntry, LayerRead, LazyLayer, ReadRange } from './layer.js';
import { ListedLayer } from './listed.js';

/** Compressed bytes fetched per Range request; a bigger member (up to its limit) is fetched alone. */
const READ_SPAN = 8 * 1024 * 1024;

/** Where one chunk of a file lies: its gzip member and its place inside the member's output. */
interface Piece {
  member: Member;
  chunk: ChunkRef;
}

export class EstargzLayer extends ListedLayer implements LazyLayer {
  readonly via = 'estargz';
  readonly indexBytes: number;
  readonly layout: TocLayout;
  /** What stargz-snapshotter checks at mount, against the layer's annotations. */
  readonly mount: ReturnType<typeof mountCheck>;
  /** The pieces of each regular file's data, in file order, by its TOC entry. */
  private readonly pieces = new Map<TocEntry, Piece[]>();
  /** The TOC entry behind each listed entry. */
  private readonly tocEntries = new Map<LayerEntry, TocEntry>();

  constructor(private readonly blob: BlobAccess, descriptor: Descriptor, readonly opened: OpenedEstargz, where: string) {
    super(descriptor, where);
    this.indexBytes = opened.tocSize + opened.footer.size;
    this.layout = describeLayout(opened.toc, opened.footer.tocOffset);
    this.mount = mountCheck(opened, this.layout, descriptor.annotations);
    for (const member of this.layout.members) {
      for (const chunk of member.chunks) {
        const list = this.pieces.get(chunk.file) ?? [];
        list.push({ member, chunk });
        this.pieces.set(chunk.file, list);
      }
    }
    const landmark = opened.toc.entries.findIndex((e) => e.type === 'reg' && cleanEntryName(e.name) === PREFETCH_LANDMARK);
    opened.toc.entries.forEach((e, i) => {
      if (e.type === 'chunk') return;
      const entry: LayerEntry = {
        path: cleanEntryName(e.name), type: e.type, size: e.type === 'reg' ? e.size ?? 0 : 0,
        mode: e.mode ?? 0, uid: e.uid ?? 0, gid: e.gid ?? 0, modTime: e.modtime, linkname: e.linkName ?? '', digest: e.digest,
        chunks: e.type === 'reg' ? this.pieces.get(e)?.length ?? 0 : undefined, prefetched: e.type === 'reg' && i < landmark,
      };
      this.tocEntries.set(entry, e);
      this.add(entry);
    });
  }

  get summary(): string {
    const { files, chunks } = this.layout;
    return `${count(files, 'file')} in ${count(chunks, 'chunk')} · TOC ${formatBytes(this.opened.tocSize)}`;
  }

  get problems(): string[] {
    return this.mount.problems;
  }

  /**
   * Fetches the members holding the range, consecutive ones together up to READ_SPAN compressed
   * bytes a request, inflates each as a stream, checks every chunk it needs against its digest and
   * keeps only the bytes of the range.
   */
  protected async readData(entry: LayerEntry, range: ReadRange, options: CallOptions): Promise<LayerRead> {
    const end = range.offset + range.length;
    const pieces = (this.pieces.get(this.tocEntries.get(entry)!) ?? []).filter(({ chunk }) => chunk.chunkOffset < end && chunk.chunkOffset + chunk.length > range.offset);
    const out = Buffer.alloc(range.length);
    if (!pieces.length) return { bytes: out, fetched: 0, via: 'no eStargz chunk' };
    const members = [...new Set(pieces.map((p) => p.member))];
    const wanted = new Set(pieces.map((p) => p.chunk));
    const memberAt = (m: Member): string => `${this.where}: the gzip member at byte ${m.offset} (/${entry.path})`;
    let fetched = 0;
    let batch: { start: number; bytes: Buffer } | undefined;
    for (const [i, member] of members.entries()) {
      throwIfAborted(options.signal, this.where);
      const refused = memberProblem(member);
      if (refused) throw new LazyImageError('INVALID_FORMAT', `${memberAt(member)} ${refused}`, { ref: this.where });
      if (!batch || member.end > batch.start + batch.bytes.length) {
        // A file's members follow one another: one range read fetches several.
        let last = i;
        while (last + 1 < members.length && members[last + 1]!.end - member.offset <= READ_SPAN) last++;
        batch = { start: member.offset, bytes: await this.blob.read(member.offset, members[last]!.end - member.offset) };
        fetched += batch.bytes.length;
      }
      let chunks: InflatedChunk[];
      try {
        chunks = await inflateChunks(member, batch.bytes.subarray(member.offset - batch.start, member.end - batch.start), (chunk, at, bytes) => {
          if (!wanted.has(chunk)) return;
          // The part of these bytes inside the range, at its place in the output.
          const from = Math.max(range.offset - chunk.chunkOffset - at, 0);
          const to = Math.min(end - chunk.chunkOffset - at, bytes.length);
          if (to > from) bytes.copy(out, chunk.chunkOffset + at + from - range.offset, from, to);
        });
      } catch (e) {
        throw new LazyImageError('INVALID_FORMAT', `${memberAt(member)} ${(e as Error).message}`, { ref: this.where });
      }
      for (const { chunk, length, digest } of chunks) {
        if (wanted.has(chunk) && (length !== chunk.length || (chunk.digest && digest !== chunk.digest))) {
          throw new LazyImageError('DIGEST_MISMATCH', `${this.where}: the chunk of /${entry.path} at ${chunk.chunkOffset} does not match its digest ${chunk.digest}`, { ref: this.where });
        }
      }
    }
    return { bytes: out, fetched, via: count(pieces.length, 'eStargz chunk') };
  }

  verify(options: CallOptions & { onProgress?: (done: number, total: number) => void } = {}): Promise<ContentCheck> {
    return verifyChunks(this.blob, this.layout, this.where, options);
  }

  /** One read of the blob before the TOC: every tar header against its TOC entry. */
  verifyHeaders(options: CallOptions & { onProgress?: ((done: number, total: number) => void) | undefined } = {}): Promise<ContentCheck> {
    return verifyTarHeaders(this.blob, this.opened.toc, this.opened.footer.tocOffset, this.where, options);
  }
}

/** Opens a layer as eStargz; INVALID_FORMAT (`<where>: <why>`) when it is not. */
export async function openEstargzLayer(blob: BlobAccess, descriptor: Descriptor, where: string): Promise<EstargzLayer> {
  return new EstargzLayer(blob, descriptor, await openEstargz(blob, where), where);
}
