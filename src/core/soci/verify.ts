// Would soci-snapshotter read this layer through this zTOC? Every span is fetched with a Range
// read, as the snapshotter fetches it, and checked against its digest.
import { createHash } from 'node:crypto';
import { throwIfAborted } from '../errors.js';
import type { BlobAccess } from '../oci/index.js';
import type { PrefetchCheck } from './prefetch.js';
import type { SpanTable } from './spans.js';

export interface SociLayerVerification {
  index: string;
  ztoc: string;
  /** True when the snapshotter would mount the layer lazily and every span checked out. */
  lazy: boolean;
  spans: number;
  spansVerified: number;
  files: number;
  /** Set by a deep check: the zTOC was rebuilt from the layer and compared field by field. */
  rebuilt?: boolean;
  /** Set when the index has a prefetch artifact for the layer; its problems are among `problems`, but do not make the layer less lazy. */
  prefetch?: PrefetchCheck;
  problems: string[];
}

export async function verifySpans(layer: BlobAccess, table: SpanTable, where: string, options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<{ checked: number; problems: string[] }> {
  const problems: string[] = [];
  let checked = 0;
  for (const span of table.spans) {
    throwIfAborted(options.signal, where);
    const bytes = await layer.read(span.start, span.end - span.start);
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (digest === span.digest) checked++;
    else problems.push(`span ${span.id} (bytes ${span.start}-${span.end - 1}) has digest ${digest}, but the zTOC says ${span.digest}: the snapshotter fails reads there`);
    options.onProgress?.(span.end, layer.size);
  }
  return { checked, problems };
}
