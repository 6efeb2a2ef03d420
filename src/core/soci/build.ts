// Builds a layer's zTOC in one read of the layer: the compressed bytes go through the gzip indexer
// (checkpoints and span digests), its output through the tar parser (one entry per tar entry, in
// tar order, with Go archive/tar's view of each header). A plain tar layer gets fixed-size spans.
import { createHash } from 'node:crypto';
import { LazyImageError } from '../errors.js';
import { formatBytes } from '../format.js';
import { inflateAllowance, MAX_INFLATE_RATIO } from '../limits.js';
import { TarParser, type TarHeader } from '../tar/index.js';
import { BlockGzipIndexer } from './blockIndexer.js';
import { encodeGzipZinfo } from './zinfo.js';
import { BUILD_TOOL_IDENTIFIER, encodeTarZinfo, encodeZtoc, TAR_ZINFO_VERSION, ZTOC_VERSION, type Ztoc, type ZtocEntry } from './ztoc.js';

export const DEFAULT_SPAN_SIZE = 4 * 1024 * 1024;

export interface BuiltZtoc {
  ztoc: Ztoc;
  /** The serialized zTOC, its digest and size. */
  bytes: Buffer;
  digest: string;
}

/** Builds a zTOC from a layer's bytes pushed in order; the same bytes whatever the chunking. */
export class ZtocBuilder {
  private readonly entries: ZtocEntry[] = [];
  private readonly parser: TarParser;
  private readonly gzip: BlockGzipIndexer | undefined;
  private readonly plain: FixedSpans | undefined;
  private readonly spanSize: number;
  /** Compressed bytes pushed so far. */
  read = 0;

  /**
   * `size` is the layer blob's: the layer may inflate to `inflateAllowance` of it (or of the bytes
   * pushed, if more), past which the build fails as a likely gzip bomb, before its checkpoints
   * (a 32 KiB window each) and its time outgrow the layer.
   */
  constructor(compression: 'gzip' | 'none', where: string, private readonly options: { spanSize?: number; buildToolIdentifier?: string; size?: number } = {}) {
    this.spanSize = options.spanSize ?? DEFAULT_SPAN_SIZE;
    this.parser = new TarParser({ entry: (h, _raw, dataOffset) => this.entries.push(ztocEntry(h, dataOffset)), data: () => undefined }, where);
    let inflated = 0;
    const output = (out: Buffer): void => {
      inflated += out.length;
      const compressed = Math.max(options.size ?? 0, this.read);
      if (inflated > inflateAllowance(compressed)) {
        throw new LazyImageError('INVALID_FORMAT', `${where}: the layer inflates past ${formatBytes(inflateAllowance(compressed))}, more than ${MAX_INFLATE_RATIO} times its ${formatBytes(compressed)}: refused as a likely gzip bomb`, { ref: where });
      }
      this.parser.push(out);
    };
    this.gzip = compression === 'gzip' ? BlockGzipIndexer.open(this.spanSize, output, where) : undefined;
    this.plain = compression === 'none' ? new FixedSpans(this.spanSize) : undefined;
  }

  push(bytes: Buffer): void {
    this.read += bytes.length;
    if (this.gzip) this.gzip.push(bytes);
    else {
      this.plain!.push(bytes);
      if (!this.parser.ended) this.parser.push(bytes);
    }
  }

  finish(): BuiltZtoc {
    const indexed = this.gzip?.finish();
    this.parser.finish();
    const spanDigests = indexed ? indexed.spanDigests : this.plain!.finish();
    const ztoc: Ztoc = {
      version: ZTOC_VERSION,
      buildToolIdentifier: this.options.buildToolIdentifier ?? BUILD_TOOL_IDENTIFIER,
      compressedArchiveSize: this.read,
      uncompressedArchiveSize: this.parser.position,
      entries: this.entries,
      compressionAlgorithm: indexed ? 'gzip' : 'uncompressed',
      maxSpanId: spanDigests.length - 1,
      spanDigests,
      checkpoints: indexed ? encodeGzipZinfo(indexed) : encodeTarZinfo({ version: TAR_ZINFO_VERSION, spanSize: this.spanSize, size: this.read }),
    };
    const bytes = encodeZtoc(ztoc);
    return { ztoc, bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
  }
}

function ztocEntry(h: TarHeader, dataOffset: number): ZtocEntry {
  return {
    name: h.name, type: h.type, uncompressedOffset: dataOffset, uncompressedSize: h.declaredSize,
    linkname: h.linkname, mode: h.mode, uid: h.uid, gid: h.gid, uname: h.uname, gname: h.gname,
    modTime: goTimeText(h.mtime.seconds, h.mtime.nanos), devmajor: h.devmajor, devminor: h.devminor, pax: h.pax,
  };
}

/** Go's time.MarshalText in UTC: RFC 3339 with the fraction's trailing zeros cut; '' outside years 0-9999, where Go fails. */
export function goTimeText(seconds: number, nanos: number): string {
  const whole = seconds + Math.floor(nanos / 1e9);
  const ns = ((nanos % 1e9) + 1e9) % 1e9;
  const date = new Date(whole * 1000);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(year) || year < 0 || year > 9999) return '';
  const base = date.toISOString().slice(0, 19);
  const fraction = ns ? `.${String(ns).padStart(9, '0').replace(/0+$/, '')}` : '';
  return `${base}${fraction}Z`;
}

/** sha256 of each fixed-size span of a plain tar. */
class FixedSpans {
  private readonly digests: string[] = [];
  private hash = createHash('sha256');
  private inSpan = 0;

  constructor(private readonly spanSize: number) {}

  push(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      const take = Math.min(this.spanSize - this.inSpan, bytes.length - at);
      this.hash.update(bytes.subarray(at, at + take));
      this.inSpan += take;
      at += take;
      if (this.inSpan === this.spanSize) {
        this.digests.push(`sha256:${this.hash.digest('hex')}`);
        this.hash = createHash('sha256');
        this.inSpan = 0;
      }
    }
  }

  finish(): string[] {
    if (this.inSpan > 0) this.digests.push(`sha256:${this.hash.digest('hex')}`);
    return this.digests;
  }
}
