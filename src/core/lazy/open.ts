// Opening a layer's files from a store: through the index that makes it lazy, or, for a layer no
// snapshotter mounts lazily, by reading it whole.
import type { LayerLaziness } from '../image/index.js';
import { MAX_ZTOC_BYTES } from '../limits.js';
import { blobAccess, readBlob, type CallOptions, type Descriptor, type ImageStore } from '../oci/index.js';
import { openEstargzLayer } from './estargz.js';
import type { LayerFiles, LazyLayer } from './layer.js';
import { openSociLayer } from './soci.js';
import { WholeLayer } from './whole.js';

/** The index a lazy layer's files come from: its own eStargz TOC, or a zTOC of a SOCI index. */
export type LazyIndex = { via: 'estargz' } | { via: 'soci'; ztoc: Descriptor };

/** Opens a layer through `index`; INVALID_FORMAT when the index is not one the snapshotter would accept. */
export async function openLazyLayer(store: ImageStore, layer: Descriptor, index: LazyIndex, where: string, options: CallOptions = {}): Promise<LazyLayer> {
  const blob = blobAccess(store, layer, options);
  if (index.via === 'estargz') return openEstargzLayer(blob, layer, where);
  return openSociLayer(blob, layer, index.ztoc, await readBlob(store, index.ztoc, MAX_ZTOC_BYTES, options), where);
}

/** The index a snapshotter mounts the layer through: its zTOC (soci-snapshotter), else its eStargz TOC; none when it is pulled whole. */
export function lazyIndex(layer: LayerLaziness): LazyIndex | undefined {
  return layer.soci ? { via: 'soci', ztoc: layer.soci.ztoc } : layer.estargz ? { via: 'estargz' } : undefined;
}

/**
 * A layer's files as a snapshotter gets them: through its zTOC (soci-snapshotter), else its
 * eStargz TOC (stargz-snapshotter), else the whole layer. `fetched` counts what opening read.
 */
export async function openLayerFiles(store: ImageStore, layer: LayerLaziness, where: string, options: CallOptions = {}): Promise<{ files: LayerFiles; fetched: number }> {
  const index = lazyIndex(layer);
  if (!index) {
    const { layer: files, fetched } = await WholeLayer.open(store, layer.descriptor, where, options);
    return { files, fetched };
  }
  const files = await openLazyLayer(store, layer.descriptor, index, where, options);
  return { files, fetched: files.indexBytes };
}
