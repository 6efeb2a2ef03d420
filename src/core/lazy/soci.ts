// A layer's files through its SOCI zTOC: listed from the zTOC (one blob, checked as the snapshotter
// checks it at mount), and read through only the spans that hold a file, each checked against its
// digest and inflated from its checkpoint.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { count, formatBytes } from '../format.js';
import type { BlobAccess, CallOptions, Descriptor } from '../oci/index.js';
import { decodeZtoc, deepCheckZtoc, entrySpans, inflateFromCheckpoint, layerCompression, SPAN_SIZE_ANNOTATION, spanTable, verifySpans, type SpanTable, type Ztoc, type ZtocEntry, type ZtocThreads } from '../soci/index.js';
import { cleanEntryName } from '../tar/index.js';
import type { ContentCheck, EntryType, LayerEntry, LayerRead, LazyLayer, ReadRange } from './layer.js';
import { ListedLayer } from './listed.js';

/** Compressed bytes fetched per Range request; a span bigger than this (up to its limit) is fetched alone. */
const READ_SPAN = 8 * 1024 * 1024;
const TYPES = new Set<string>(['dir', 'reg', 'symlink', 'hardlink', 'char', 'block', 'fifo']);

export class SociLayer extends ListedLayer implements LazyLayer {
  readonly via = 'soci';
  readonly spans: SpanTable;
  private readonly ztocEntries = new Map<LayerEntry, ZtocEntry>();

  constructor(private readonly blob: BlobAccess, descriptor: Descriptor, readonly ztocDescriptor: Descriptor, readonly ztoc: Ztoc, where: string) {
    super(descriptor, where);
    this.spans = spanTable(ztoc, descriptor.size, ztocWhere(ztocDescriptor, where));
    for (const e of ztoc.entries) {
      if (!TYPES.has(e.type)) continue; // soci lists only these; anything else is not a file to show
      const entry: LayerEntry = {
        path: cleanEntryName(e.name), type: e.type as EntryType, size: e.type === 'reg' ? e.uncompressedSize : 0,
        mode: e.mode, uid: e.uid, gid: e.gid, modTime: e.modTime || undefined, linkname: e.linkname,
        spans: e.type === 'reg' ? entrySpans(this.spans, e) : undefined, tarOffset: e.uncompressedOffset,
      };
      this.ztocEntries.set(entry, e);
      this.add(entry);
    }
  }

  /**
   * Fetches the spans holding the range, consecutive ones together up to READ_SPAN compressed
   * bytes a request (a file's spans are contiguous), checks each against its digest, and inflates
   * each from its checkpoint only as far as needed.
   */
  protected async readData(entry: LayerEntry, range: ReadRange, options: CallOptions): Promise<LayerRead> {
    const e = this.ztocEntries.get(entry)!;
    const from = e.uncompressedOffset + range.offset;
    const to = from + range.length;
    const [firstId, lastId] = [this.spans.spanOf(from), this.spans.spanOf(to - 1)];
    const out = Buffer.alloc(range.length);
    const ids: number[] = [];
    let fetched = 0;
    let batch: { start: number; bytes: Buffer } | undefined;
    for (let id = firstId; id <= lastId; id++) {
      throwIfAborted(options.signal, this.where);
      const span = this.spans.spans[id]!;
      if (!batch || span.end > batch.start + batch.bytes.length) {
        let last = id;
        while (last < lastId && this.spans.spans[last + 1]!.end - span.start <= READ_SPAN) last++;
        batch = { start: span.start, bytes: await this.blob.read(span.start, this.spans.spans[last]!.end - span.start) };
        fetched += batch.bytes.length;
      }
      const compressed = batch.bytes.subarray(span.start - batch.start, span.end - batch.start);
      const digest = `sha256:${createHash('sha256').update(compressed).digest('hex')}`;
      if (digest !== span.digest) throw new LazyImageError('DIGEST_MISMATCH', `${this.where}: span ${id} (bytes ${span.start}-${span.end - 1}) has digest ${digest}, but the zTOC says ${span.digest}`, { ref: this.where });
      const end = Math.min(to, span.outEnd) - span.outStart;
      const plain = span.checkpoint ? inflateFromCheckpoint(span.checkpoint, compressed, end, `${this.where} span ${id}`) : compressed;
      const start = Math.max(from, span.outStart);
      plain.copy(out, start - from, start - span.outStart, end);
      ids.push(id);
    }
    return { bytes: out, fetched, spans: ids, via: `SOCI ${ids.length === 1 ? `span ${ids[0]}` : `spans ${ids[0]}–${ids.at(-1)}`}` };
  }

  verify(options: CallOptions & { onProgress?: (done: number, total: number) => void } = {}): Promise<ContentCheck> {
    return verifySpans(this.blob, this.spans, ztocWhere(this.ztocDescriptor, this.where), options);
  }

  /**
   * Rebuilds the zTOC from the layer's bytes (`source`, one read of the whole layer) and compares
   * it field by field; the SOCI index's build tool and span size are what it must repeat.
   */
  async verifyDeep(source: Readable, index: { buildTool?: string | undefined }, options: CallOptions & { threads: ZtocThreads; onRead?: (bytes: number) => void }): Promise<ContentCheck> {
    const spanSize = this.ztocDescriptor.annotations?.[SPAN_SIZE_ANNOTATION];
    if (spanSize !== undefined && !/^[1-9]\d{0,15}$/.test(spanSize)) {
      source.destroy();
      return { checked: 0, problems: [`the SOCI index gives the zTOC a span size of ${JSON.stringify(spanSize.slice(0, 40))}, not a positive integer`] };
    }
    return deepCheckZtoc(source, layerCompression(this.descriptor.mediaType), this.ztoc, this.spans, this.blob, this.where, {
      ...options, buildTool: index.buildTool, spanSize: spanSize === undefined ? undefined : Number(spanSize),
    });
  }

  get indexBytes(): number {
    return this.ztocDescriptor.size;
  }

  get summary(): string {
    const spans = this.spans.spans.length;
    return `${count(spans, 'span')} of ${formatBytes(this.spans.spanSize)} · ${this.ztoc.entries.length} entries · ${this.ztoc.buildToolIdentifier}`;
  }

  /** Opening checked what the snapshotter checks at mount, and refused what failed. */
  get problems(): string[] {
    return [];
  }
}

function ztocWhere(ztoc: Descriptor, where: string): string {
  return `zTOC ${ztoc.digest} of ${where}`;
}

/** Decodes a zTOC and opens the layer through it; INVALID_FORMAT when the snapshotter would refuse it at mount. */
export function openSociLayer(blob: BlobAccess, descriptor: Descriptor, ztoc: Descriptor, ztocBytes: Buffer, where: string): SociLayer {
  return new SociLayer(blob, descriptor, ztoc, decodeZtoc(ztocBytes, ztocWhere(ztoc, where)), where);
}
