// Builds a layer's zTOC in one read of the layer: the compressed bytes go through the gzip indexer
// (checkpoints and span digests), its output through the tar parser (one entry per tar entry, in
// tar order, with Go archive/tar's view of each header). A plain tar layer gets fixed-size spans.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { throwIfAborted } from '../errors.js';
import { TarParser, type TarHeader } from '../tar/reader.js';
import { encodeGzipZinfo, GzipIndexer } from './zinfo.js';
import { BUILD_TOOL_IDENTIFIER, encodeTarZinfo, encodeZtoc, TAR_ZINFO_VERSION, ZTOC_VERSION, type Ztoc, type ZtocEntry } from './ztoc.js';

export const DEFAULT_SPAN_SIZE = 4 * 1024 * 1024;

export interface ZtocBuildOptions {
  spanSize?: number;
  buildToolIdentifier?: string;
  signal?: AbortSignal;
  /** Compressed bytes read so far. */
  onRead?: (bytes: number) => void;
}

export interface BuiltZtoc {
  ztoc: Ztoc;
  /** The serialized zTOC, its digest and size. */
  bytes: Buffer;
  digest: string;
}

export async function buildZtoc(source: Readable, compression: 'gzip' | 'none', where: string, options: ZtocBuildOptions = {}): Promise<BuiltZtoc> {
  const spanSize = options.spanSize ?? DEFAULT_SPAN_SIZE;
  const entries: ZtocEntry[] = [];
  const parser = new TarParser({ entry: (h, _raw, dataOffset) => entries.push(ztocEntry(h, dataOffset)), data: () => undefined }, where);
  const gzip = compression === 'gzip' ? new GzipIndexer(spanSize, (out) => parser.push(out), where) : undefined;
  const plain = compression === 'none' ? new FixedSpans(spanSize) : undefined;
  let read = 0;
  for await (const chunk of source) {
    throwIfAborted(options.signal, where);
    const bytes = chunk as Buffer;
    read += bytes.length;
    if (gzip) gzip.push(bytes);
    else {
      plain!.push(bytes);
      if (!parser.ended) parser.push(bytes);
    }
    options.onRead?.(read);
  }
  const indexed = gzip?.finish();
  parser.finish();
  const spanDigests = indexed ? indexed.spanDigests : plain!.finish();
  const ztoc: Ztoc = {
    version: ZTOC_VERSION,
    buildToolIdentifier: options.buildToolIdentifier ?? BUILD_TOOL_IDENTIFIER,
    compressedArchiveSize: read,
    uncompressedArchiveSize: parser.position,
    entries,
    compressionAlgorithm: indexed ? 'gzip' : 'uncompressed',
    maxSpanId: spanDigests.length - 1,
    spanDigests,
    checkpoints: indexed ? encodeGzipZinfo(indexed) : encodeTarZinfo({ version: TAR_ZINFO_VERSION, spanSize, size: read }),
  };
  const bytes = encodeZtoc(ztoc);
  return { ztoc, bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
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
