// A zTOC's spans: checked the way the snapshotter checks them at mount, and mapped to the
// compressed and uncompressed ranges a reader fetches and inflates.
import { LazyImageError } from '../errors.js';
import { MAX_SPAN_BYTES, MAX_SPAN_OVERRUN } from '../limits.js';
import { decodeGzipZinfo, type Checkpoint } from './zinfo.js';
import { decodeTarZinfo, TAR_ZINFO_VERSION, type Ztoc, type ZtocEntry } from './ztoc.js';

export interface Span {
  id: number;
  /** Compressed bytes to fetch: `[start, end)` of the layer blob. */
  start: number;
  end: number;
  /** Uncompressed bytes it inflates to: `[outStart, outEnd)` of the tar. */
  outStart: number;
  outEnd: number;
  digest: string;
  /** Absent for a plain tar layer, whose spans are the tar bytes themselves. */
  checkpoint?: Checkpoint;
}

export interface SpanTable {
  spanSize: number;
  spans: Span[];
  /** The span holding an uncompressed offset: the last one starting at or before it. */
  spanOf(offset: number): number;
  /**
   * soci's own span ID for an offset (`UncompressedOffsetToSpanID`), which `soci ztoc info` and
   * its prefetch artifacts use: `spanOf`, except that for a plain tar it does not stop at the last span.
   */
  sociSpanId(offset: number): number;
}

/**
 * The spans of a zTOC, after the checks soci-snapshotter makes at mount (span count against
 * `max_span_id`, increasing offsets, sizes within the layer) and some it leaves to the first read
 * (entries inside the tar, names that stay inside the root).
 */
export function spanTable(z: Ztoc, layerSize: number | undefined, where: string): SpanTable {
  const fail = (why: string): LazyImageError => new LazyImageError('INVALID_FORMAT', `${where}: the zTOC ${why}`, { ref: where });
  if (layerSize !== undefined && z.compressedArchiveSize !== layerSize) throw fail(`describes a ${z.compressedArchiveSize}-byte layer, but the layer is ${layerSize} bytes`);
  const count = z.maxSpanId + 1;
  if (z.spanDigests.length !== count) throw fail(`has ${z.spanDigests.length} span digests for max_span_id ${z.maxSpanId}`);
  for (const d of z.spanDigests) if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw fail(`has a span digest ${JSON.stringify(d.slice(0, 80))} that is not sha256:<64 hex>`);
  let table: SpanTable;
  if (z.compressionAlgorithm === 'gzip') {
    const { spanSize, checkpoints } = decodeGzipZinfo(z.checkpoints, where);
    if (checkpoints.length !== count) throw fail(`has ${checkpoints.length} checkpoints for max_span_id ${z.maxSpanId}`);
    const last = checkpoints[count - 1]!;
    if (last.in > z.compressedArchiveSize || last.out > z.uncompressedArchiveSize) throw fail(`has a checkpoint (compressed ${last.in}, uncompressed ${last.out}) past the end of the layer`);
    const spans = checkpoints.map((c, i): Span => ({
      id: i, start: c.in - (c.bits ? 1 : 0), end: checkpoints[i + 1]?.in ?? z.compressedArchiveSize,
      outStart: c.out, outEnd: checkpoints[i + 1]?.out ?? z.uncompressedArchiveSize, digest: z.spanDigests[i]!, checkpoint: c,
    }));
    checkSpanSizes(spanSize, spans, fail);
    const starts = checkpoints.map((c) => c.out);
    const spanOf = (offset: number): number => lastAtOrBefore(starts, offset);
    table = { spanSize, spans, spanOf, sociSpanId: spanOf };
  } else {
    const tar = decodeTarZinfo(z.checkpoints, where);
    if (tar.version !== TAR_ZINFO_VERSION) throw fail(`has tar checkpoints of version ${tar.version}, not ${TAR_ZINFO_VERSION}`);
    if (tar.spanSize < 1 || tar.spanSize > MAX_SPAN_BYTES) throw fail(`has a span size of ${tar.spanSize} bytes (at most ${MAX_SPAN_BYTES})`);
    if (tar.size !== z.compressedArchiveSize) throw fail(`says the tar is ${tar.size} bytes in one place and ${z.compressedArchiveSize} in another`);
    const expected = Math.ceil(tar.size / tar.spanSize);
    if (count !== expected) throw fail(`has ${count} spans where a ${tar.size}-byte tar in ${tar.spanSize}-byte spans has ${expected}`);
    const spans = z.spanDigests.map((digest, i): Span => {
      const start = i * tar.spanSize;
      const end = Math.min(start + tar.spanSize, tar.size);
      return { id: i, start, end, outStart: start, outEnd: end, digest };
    });
    const sociSpanId = (offset: number): number => Math.floor(offset / tar.spanSize);
    table = { spanSize: tar.spanSize, spans, spanOf: (offset) => Math.min(sociSpanId(offset), count - 1), sociSpanId };
  }
  z.entries.forEach((e, i) => checkEntry(e, i, z.uncompressedArchiveSize, fail));
  return table;
}

/**
 * A reader holds a whole span, so its size is checked before anything is fetched: the declared
 * span size, and each span against it (a span ends at the first block boundary past that size).
 */
function checkSpanSizes(spanSize: number, spans: Span[], fail: (why: string) => LazyImageError): void {
  if (spanSize > MAX_SPAN_BYTES) throw fail(`declares ${spanSize}-byte spans (at most ${MAX_SPAN_BYTES})`);
  const most = Math.max(spanSize, 0) + MAX_SPAN_OVERRUN;
  for (const s of spans) {
    const [plain, compressed] = [s.outEnd - s.outStart, s.end - s.start];
    if (plain > most || compressed > most) {
      throw fail(`has span ${s.id} of ${plain} bytes (${compressed} compressed), more than ${most} for ${spanSize}-byte spans`);
    }
  }
}

function checkEntry(e: ZtocEntry, i: number, tarSize: number, fail: (why: string) => LazyImageError): void {
  const name = JSON.stringify(e.name);
  if (e.uncompressedOffset + e.uncompressedSize > tarSize) throw fail(`puts entry ${i} (${name}) at ${e.uncompressedOffset}+${e.uncompressedSize}, past the ${tarSize}-byte tar`);
  if (e.name.split('/').includes('..')) throw fail(`has entry ${i} named ${name}, which climbs out of the root with '..'`);
}

function lastAtOrBefore(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The first and last span holding an entry's data (none for an empty entry): what reading it fetches. */
export function entrySpans(table: SpanTable, e: ZtocEntry): [number, number] | undefined {
  if (e.uncompressedSize === 0) return undefined;
  return [table.spanOf(e.uncompressedOffset), table.spanOf(e.uncompressedOffset + e.uncompressedSize - 1)];
}

/** What `soci ztoc info` prints, field for field (its JSON names). */
export interface ZtocInfo {
  version: string;
  build_tool: string;
  size: number;
  span_size: number;
  num_spans: number;
  num_files: number;
  num_multi_span_files: number;
  files: Array<{ filename: string; offset: number; size: number; type: string; start_span: number; end_span: number }> | null;
}

export function ztocInfo(z: Ztoc, table: SpanTable, size: number): ZtocInfo {
  const files = z.entries.map((e) => {
    const startSpan = table.sociSpanId(e.uncompressedOffset);
    const endSpan = table.sociSpanId(e.uncompressedOffset + e.uncompressedSize);
    return { filename: e.name, offset: e.uncompressedOffset, size: e.uncompressedSize, type: e.type, start_span: startSpan, end_span: endSpan };
  });
  return {
    version: z.version, build_tool: z.buildToolIdentifier, size, span_size: table.spanSize, num_spans: z.maxSpanId + 1,
    num_files: z.entries.length, num_multi_span_files: files.filter((f) => f.start_span !== f.end_span).length, files: files.length ? files : null,
  };
}
