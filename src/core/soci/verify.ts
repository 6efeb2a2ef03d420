// Would soci-snapshotter lazily pull this layer with this zTOC? The checks it makes at mount
// (zTOC decodes, span count, offsets, sizes), then, unless quick, every span's digest against the
// layer's bytes, fetched span by span with Range reads as the snapshotter fetches them.
import { createHash } from 'node:crypto';
import { describeError, LazyImageError, throwIfAborted } from '../errors.js';
import { spanTable } from './spans.js';
import { decodeZtoc } from './ztoc.js';

export interface SociLayerVerification {
  index: string;
  ztoc: string;
  /** True when the snapshotter would mount the layer lazily and every span checked out. */
  lazy: boolean;
  spans: number;
  spansVerified: number;
  files: number;
  problems: string[];
}

export interface SociLayerAccess {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export async function verifySociLayer(
  layer: SociLayerAccess, ztocBytes: Buffer, ids: { index: string; ztoc: string }, where: string, options: { quick?: boolean; signal?: AbortSignal } = {},
): Promise<SociLayerVerification> {
  const result: SociLayerVerification = { ...ids, lazy: false, spans: 0, spansVerified: 0, files: 0, problems: [] };
  let table;
  try {
    const z = decodeZtoc(ztocBytes, where);
    table = spanTable(z, layer.size, where);
    result.spans = table.spans.length;
    result.files = z.entries.length;
  } catch (e) {
    if (!(e instanceof LazyImageError)) throw e;
    result.problems.push(describeError(e));
    return result;
  }
  if (!options.quick) {
    for (const span of table.spans) {
      throwIfAborted(options.signal, where);
      const bytes = await layer.read(span.start, span.end - span.start);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      if (digest === span.digest) result.spansVerified++;
      else result.problems.push(`span ${span.id} (bytes ${span.start}-${span.end - 1}) has digest ${digest}, but the zTOC says ${span.digest}: the snapshotter fails reads there`);
    }
  }
  result.lazy = result.problems.length === 0;
  return result;
}
