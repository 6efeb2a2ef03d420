// `toc`: one layer's eStargz table of contents, read with two Range requests (footer, TOC) and
// checked against the layer's annotation, with the layout summary the verifier uses.
import type { Toc, TocLayout } from '../estargz/index.js';
import { TOC_DIGEST_ANNOTATION } from '../estargz/index.js';
import { resolveImage, selectLayer, type ResolveOptions } from '../image/index.js';
import { openEstargzLayer } from '../lazy/index.js';
import { blobAccess, type Descriptor, type ImageStore } from '../oci/index.js';

export interface LayerToc {
  layer: Descriptor;
  /** 1-based. */
  index: number;
  count: number;
  tocDigest: string;
  /** The annotation's value, if any, and whether it matches. */
  annotation?: string;
  tocOffset: number;
  legacy: boolean;
  toc: Toc;
  layout: TocLayout;
}

export async function readLayerToc(store: ImageStore, tagOrDigest: string | undefined, selector: string, options: ResolveOptions = {}): Promise<LayerToc> {
  const { image } = await resolveImage(store, tagOrDigest, 'Cannot read a layer of', options);
  const { layer, index } = selectLayer(image, selector, store.name);
  const count = image.manifest.layers.length;
  const opened = await openEstargzLayer(blobAccess(store, layer, options), layer, `${store.name} layer ${index}/${count} (${layer.digest})`);
  return {
    layer, index, count,
    tocDigest: opened.opened.tocDigest,
    annotation: layer.annotations?.[TOC_DIGEST_ANNOTATION],
    tocOffset: opened.opened.footer.tocOffset,
    legacy: opened.opened.footer.legacy,
    toc: opened.opened.toc,
    layout: opened.layout,
  };
}
