// `toc`: one layer's eStargz table of contents, read with two Range requests (footer, TOC) and
// checked against the layer's annotation, with the layout summary the verifier uses.
import { LazyImageError } from '../errors.js';
import { describeLayout, type TocLayout } from '../estargz/layout.js';
import { openEstargz } from '../estargz/open.js';
import type { Toc } from '../estargz/toc.js';
import { TOC_DIGEST_ANNOTATION } from '../estargz/verify.js';
import type { Descriptor, ImageStore, Platform } from '../oci/index.js';
import { resolveImage, type ResolvedImage } from './platforms.js';

export interface LayerSelection {
  manifest: Descriptor;
  /** The image the layer is in, and the document its reference names. */
  resolved: ResolvedImage;
  layer: Descriptor;
  /** 1-based. */
  index: number;
  count: number;
}

/** Finds a layer by 1-based number or by digest (a unique prefix of the hex is enough). */
export async function selectLayer(store: ImageStore, tagOrDigest: string | undefined, selector: string, options: { platform?: Platform; signal?: AbortSignal } = {}): Promise<LayerSelection> {
  const resolved = await resolveImage(store, tagOrDigest, 'Cannot read a layer of', options);
  const doc = resolved.image;
  const layers = doc.manifest.layers;
  let index: number;
  if (/^\d+$/.test(selector)) {
    index = Number(selector);
    if (index < 1 || index > layers.length) throw new LazyImageError('NOT_FOUND', `${store.name} has ${layers.length} layer(s); there is no layer ${selector}`, { ref: store.name });
  } else {
    const hex = selector.replace(/^sha256:/, '');
    const matches = layers.map((l, i) => ({ l, i })).filter(({ l }) => l.digest.startsWith(`sha256:${hex}`));
    if (hex.length < 4 || matches.length !== 1) {
      throw new LazyImageError('NOT_FOUND', `${store.name}: ${matches.length ? 'more than one layer matches' : 'no layer matches'} ${selector}; give a layer number (1-${layers.length}) or more of its digest`, { ref: store.name });
    }
    index = matches[0]!.i + 1;
  }
  return { manifest: doc.descriptor, layer: layers[index - 1]!, index, count: layers.length, resolved };
}

export interface LayerToc {
  layer: Descriptor;
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

export async function readLayerToc(store: ImageStore, tagOrDigest: string | undefined, selector: string, options: { platform?: Platform; signal?: AbortSignal } = {}): Promise<LayerToc> {
  const { layer, index, count } = await selectLayer(store, tagOrDigest, selector, options);
  const call = options.signal ? { signal: options.signal } : {};
  const where = `${store.name} layer ${index}/${count} (${layer.digest})`;
  const opened = await openEstargz({ size: layer.size, read: (offset, length) => store.readBlobRange(layer, offset, length, call) }, where);
  const annotation = layer.annotations?.[TOC_DIGEST_ANNOTATION];
  return {
    layer, index, count,
    tocDigest: opened.tocDigest,
    ...(annotation ? { annotation } : {}),
    tocOffset: opened.footer.tocOffset,
    legacy: opened.footer.legacy,
    toc: opened.toc,
    layout: describeLayout(opened.toc, opened.footer.tocOffset),
  };
}
