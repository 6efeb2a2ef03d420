// An eStargz layer's files: listed from its TOC (read with two range reads: footer, then TOC), and
// read through the gzip members that hold a file's chunks, each chunk checked against its digest.
import { createHash } from 'node:crypto';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { describeLayout, inflatePrefix, mountCheck, openEstargz, PREFETCH_LANDMARK, verifyChunks, type ChunkRef, type Member, type OpenedEstargz, type TocEntry, type TocLayout } from '../estargz/index.js';
import { count, formatBytes } from '../format.js';
import type { BlobAccess, CallOptions, Descriptor } from '../oci/index.js';
import { cleanEntryName } from '../tar/index.js';
import type { ContentCheck, LayerEntry, LayerRead, LazyLayer, ReadRange } from './layer.js';
import { ListedLayer } from './listed.js';

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

  protected async readData(entry: LayerEntry, range: ReadRange, options: CallOptions): Promise<LayerRead> {
    const end = range.offset + range.length;
    const pieces = (this.pieces.get(this.tocEntries.get(entry)!) ?? []).filter(({ chunk }) => chunk.chunkOffset < end && chunk.chunkOffset + chunk.length > range.offset);
    const out = Buffer.alloc(range.length);
    if (!pieces.length) return { bytes: out, fetched: 0, via: 'no eStargz chunk' };
    // A file's members follow one another: one range read fetches them all.
    const start = pieces[0]!.member.offset;
    const fetched = await this.blob.read(start, pieces.at(-1)!.member.end - start);
    const members = [...new Set(pieces.map((p) => p.member))];
    for (const member of members) {
      throwIfAborted(options.signal, this.where);
      // Only as much output as the member's chunks cover, however much it claims to inflate to.
      const need = Math.max(...member.chunks.map((c) => c.innerOffset + c.length));
      let plain: Buffer;
      try {
        plain = await inflatePrefix(fetched.subarray(member.offset - start, member.end - start), need);
      } catch (e) {
        throw new LazyImageError('INVALID_FORMAT', `${this.where}: the gzip member at byte ${member.offset} (/${entry.path}) cannot be decompressed: ${(e as Error).message}`, { ref: this.where });
      }
      for (const { chunk } of pieces.filter((p) => p.member === member)) {
        const data = plain.subarray(chunk.innerOffset, chunk.innerOffset + chunk.length);
        if (data.length !== chunk.length || (chunk.digest && `sha256:${createHash('sha256').update(data).digest('hex')}` !== chunk.digest)) {
          throw new LazyImageError('DIGEST_MISMATCH', `${this.where}: the chunk of /${entry.path} at ${chunk.chunkOffset} does not match its digest ${chunk.digest}`, { ref: this.where });
        }
        const from = Math.max(range.offset - chunk.chunkOffset, 0);
        data.copy(out, chunk.chunkOffset + from - range.offset, from, Math.min(chunk.length, end - chunk.chunkOffset));
      }
    }
    return { bytes: out, fetched: fetched.length, via: count(pieces.length, 'eStargz chunk') };
  }

  verify(options: CallOptions & { onProgress?: (done: number, total: number) => void } = {}): Promise<ContentCheck> {
    return verifyChunks(this.blob, this.layout, this.where, options);
  }
}

/** Opens a layer as eStargz; INVALID_FORMAT (`<where>: <why>`) when it is not. */
export async function openEstargzLayer(blob: BlobAccess, descriptor: Descriptor, where: string): Promise<EstargzLayer> {
  return new EstargzLayer(blob, descriptor, await openEstargz(blob, where), where);
}
