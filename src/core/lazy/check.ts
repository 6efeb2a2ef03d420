// A layer checked the way each snapshotter checks it before and while it mounts it lazily: first
// what it checks at mount (the index opens, its digest and layout agree with the image), then,
// unless quick, every chunk or span it would fetch against its digest. A deep check goes further,
// with one more read of the whole layer: the index against what the layer says it should be.
import { describeError, LazyImageError } from '../errors.js';
import { notEstargzCheck, type LayerVerification } from '../estargz/index.js';
import { isContentProblem } from '../image/index.js';
import { MAX_PREFETCH_BYTES } from '../limits.js';
import { readBlob, type BlobAccess, type CallOptions, type Descriptor, type ImageStore } from '../oci/index.js';
import { checkPrefetchSpans, decodePrefetchArtifact, type PrefetchCheck, type SociLayerVerification, type ZtocThreads } from '../soci/index.js';
import { openEstargzLayer, type EstargzLayer } from './estargz.js';
import { openLazyLayer } from './open.js';
import type { SociLayer } from './soci.js';

export interface CheckOptions extends CallOptions {
  /** Mount-time checks only: no chunk or span is fetched. */
  quick?: boolean;
  /**
   * Also check the index against the layer's own bytes: an eStargz TOC against the tar headers,
   * a zTOC against the one our indexer rebuilds (on these threads); it replaces the span reads.
   */
  deep?: { threads: ZtocThreads; onProgress?: ((done: number, total: number) => void) | undefined } | undefined;
}

/** As stargz-snapshotter would: a layer that is not eStargz is a note, unless its annotation says it is. */
export async function checkEstargzLayer(blob: BlobAccess, descriptor: Descriptor, where: string, options: CheckOptions = {}): Promise<LayerVerification> {
  let layer: EstargzLayer;
  try {
    layer = await openEstargzLayer(blob, descriptor, where);
  } catch (e) {
    if (!(e instanceof LazyImageError) || e.code !== 'INVALID_FORMAT') throw e;
    return notEstargzCheck(e.message.slice(where.length + 2), descriptor.annotations);
  }
  const { format, notes } = layer.mount;
  const problems = [...layer.mount.problems];
  let chunksVerified = 0;
  if (!options.quick && layer.layout.problems.length === 0) {
    const content = await layer.verify(options);
    chunksVerified = content.checked;
    problems.push(...content.problems);
  }
  let headersVerified: number | undefined;
  if (options.deep && layer.layout.problems.length === 0) {
    const headers = await layer.verifyHeaders({ signal: options.signal, onProgress: options.deep.onProgress });
    headersVerified = headers.checked;
    problems.push(...headers.problems);
  }
  return { format, lazy: problems.length === 0, problems, notes, tocDigest: layer.opened.tocDigest, layout: layer.layout, chunksVerified, ...(headersVerified === undefined ? {} : { headersVerified }) };
}

/** As soci-snapshotter would, through the zTOC `index` gives the layer (`buildTool`: its annotation). */
export async function checkSociLayer(
  store: ImageStore, descriptor: Descriptor, index: { digest: string; ztoc: Descriptor; buildTool?: string | undefined; prefetch?: Descriptor | undefined }, where: string, options: CheckOptions = {},
): Promise<SociLayerVerification> {
  const result: SociLayerVerification = { index: index.digest, ztoc: index.ztoc.digest, lazy: false, spans: 0, spansVerified: 0, files: 0, problems: [] };
  let layer: SociLayer;
  try {
    layer = await openLazyLayer(store, descriptor, { via: 'soci', ztoc: index.ztoc }, where, options) as SociLayer;
  } catch (e) {
    if (!isContentProblem(e)) throw e;
    result.problems.push(describeError(e));
    return result;
  }
  result.spans = layer.spans.spans.length;
  result.files = layer.ztoc.entries.length;
  if (options.deep) {
    const { threads, onProgress } = options.deep;
    try {
      const content = await layer.verifyDeep(await store.getBlob(descriptor, { signal: options.signal }), index, {
        threads, signal: options.signal, onRead: (n) => onProgress?.(Math.min(n, descriptor.size), descriptor.size),
      });
      result.spansVerified = content.checked;
      result.rebuilt = true;
      result.problems.push(...content.problems);
    } catch (e) {
      if (!isContentProblem(e)) throw e;
      result.problems.push(describeError(e));
    }
  } else if (!options.quick) {
    const content = await layer.verify(options);
    result.spansVerified = content.checked;
    result.problems.push(...content.problems);
  }
  result.lazy = result.problems.length === 0;
  // A bad prefetch artifact costs the prefetch, not the lazy mount.
  if (index.prefetch) {
    result.prefetch = await checkPrefetch(store, index.prefetch, layer, options);
    result.problems.push(...result.prefetch.problems);
  }
  return result;
}

/** The artifact read as the daemon reads it, then its spans against the layer's zTOC. */
async function checkPrefetch(store: ImageStore, artifact: Descriptor, layer: SociLayer, options: CallOptions): Promise<PrefetchCheck> {
  try {
    const bytes = await readBlob(store, artifact, MAX_PREFETCH_BYTES, options);
    return checkPrefetchSpans(artifact.digest, decodePrefetchArtifact(bytes, `prefetch artifact ${artifact.digest}`), layer.ztoc, layer.spans);
  } catch (e) {
    if (!isContentProblem(e)) throw e;
    return { artifact: artifact.digest, ranges: 0, spans: 0, bytes: 0, files: 0, problems: [`${describeError(e)}: the snapshotter prefetches nothing for this layer`] };
  }
}
