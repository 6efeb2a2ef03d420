// The deep check of a zTOC: the layer is read once and indexed again by our indexer (on a zTOC
// thread, with the published span size), and the two zTOCs are compared field by field. The rebuilt
// span digests are those of the layer's bytes, so this also checks every span.
import type { Readable } from 'node:stream';
import { LazyImageError } from '../errors.js';
import type { BlobAccess } from '../oci/index.js';
import { ztocDifferences, type ZtocDifference, type ZtocExpectations } from './compare.js';
import type { LayerCompression } from './compression.js';
import type { SpanTable } from './spans.js';
import { decodeGzipZinfo, inflateFromCheckpoint } from './zinfo.js';
import { decodeZtoc, type Ztoc } from './ztoc.js';
import type { ZtocThreads } from './ztocThread.js';

export interface DeepZtocCheck {
  /** Spans whose checkpoint and digest are what the layer gives. */
  checked: number;
  /** The first difference, with how many more there are; empty when the zTOC matches the layer. */
  problems: string[];
}

export interface DeepZtocOptions extends ZtocExpectations {
  threads: ZtocThreads;
  signal?: AbortSignal | undefined;
  onRead?: ((bytes: number) => void) | undefined;
}

/**
 * Rebuilds the zTOC of the layer whose bytes `source` streams and compares it with `published`,
 * whose span table `table` is; `blob` reads a span again to explain a wrong window.
 */
export async function deepCheckZtoc(source: Readable, compression: LayerCompression | undefined, published: Ztoc, table: SpanTable, blob: BlobAccess, where: string, options: DeepZtocOptions): Promise<DeepZtocCheck> {
  if (compression !== 'gzip' && compression !== 'none') {
    source.destroy();
    return { checked: 0, problems: [`the layer is ${compression ?? 'not a tar layer'}, which soci does not index: the zTOC cannot describe it`] };
  }
  const spanSize = options.spanSize ?? table.spanSize;
  const built = await options.threads.build(source, compression, where, { spanSize, signal: options.signal, onRead: options.onRead });
  const layer = decodeZtoc(built.bytes, `${where} (rebuilt)`);
  const differences = [...ztocDifferences(published, layer, options)];
  const wrong = new Set(differences.map((d) => d.span));
  const checked = table.spans.filter((s) => !wrong.has(s.id) && s.digest === layer.spanDigests[s.id]).length;
  const first = differences[0];
  if (!first) return { checked, problems: [] };
  const more = differences.length > 1 ? ` (and ${differences.length - 1} more ${differences.length > 2 ? 'differences' : 'difference'})` : '';
  return { checked, problems: [`${first.message}${await windowEffect(first, layer, table, blob, where)}${more}`] };
}

/** What a wrong window does: the span inflates to wrong bytes from some offset, or (if nothing refers back to the change) still right. */
async function windowEffect(d: ZtocDifference, layer: Ztoc, table: SpanTable, blob: BlobAccess, where: string): Promise<string> {
  if (!d.window || d.span === undefined) return '';
  const span = table.spans[d.span]!;
  const length = span.outEnd - span.outStart;
  const compressed = await blob.read(span.start, span.end - span.start);
  const window = decodeGzipZinfo(layer.checkpoints, where).checkpoints[d.span]!.window;
  const right = inflateFromCheckpoint({ ...span.checkpoint!, window }, compressed, length, where);
  let wrong: Buffer;
  try {
    wrong = inflateFromCheckpoint(span.checkpoint!, compressed, length, where);
  } catch (e) {
    if (!(e instanceof LazyImageError)) throw e;
    return `: reading the span through it fails (${e.message.slice(where.length + 2)})`;
  }
  let at = 0;
  while (at < length && wrong[at] === right[at]) at++;
  return at < length ? `: the span inflates to wrong bytes from uncompressed offset ${span.outStart + at}` : ': the span still inflates to the right bytes, as nothing in it refers back to the changed bytes';
}
