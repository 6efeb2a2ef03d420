// `ztoc`: one layer's zTOC, from the SOCI index the snapshotter would use for it, checked as it
// checks a zTOC at mount.
import { LazyImageError } from '../errors.js';
import { laziness, resolveImage, selectLayer, type ResolveOptions } from '../image/index.js';
import { openLazyLayer, type SociLayer } from '../lazy/index.js';
import type { Descriptor, ImageStore } from '../oci/index.js';
import type { SociIndex, SpanTable, Ztoc } from '../soci/index.js';

export interface LayerZtoc {
  layer: Descriptor;
  /** 1-based. */
  index: number;
  count: number;
  sociIndex: SociIndex;
  /** The zTOC's descriptor in the SOCI index. */
  descriptor: Descriptor;
  ztoc: Ztoc;
  spans: SpanTable;
}

export async function readLayerZtoc(store: ImageStore, tagOrDigest: string | undefined, selector: string, options: ResolveOptions = {}): Promise<LayerZtoc> {
  const { root, image } = await resolveImage(store, tagOrDigest, 'Cannot read a layer of', options);
  const { layer, index } = selectLayer(image, selector, store.name);
  const count = image.manifest.layers.length;
  const where = `${store.name} layer ${index}/${count} (${layer.digest})`;
  const lazy = await laziness(store, image, { root, signal: options.signal });
  const soci = lazy.layers[index - 1]!.soci;
  if (!soci) {
    const why = lazy.sociIndexes.length === 0 ? 'the image has no SOCI index: soci-snapshotter would pull it whole' : lazy.layers[index - 1]!.reason;
    throw new LazyImageError('NOT_FOUND', `${where} has no zTOC: ${why}`, { ref: store.name });
  }
  const opened = await openLazyLayer(store, layer, { via: 'soci', ztoc: soci.ztoc }, where, options) as SociLayer;
  const sociIndex = lazy.sociIndexes.find((f) => f.digest === soci.index)!.index!;
  return { layer, index, count, sociIndex, descriptor: soci.ztoc, ztoc: opened.ztoc, spans: opened.spans };
}
