// The images a store lists at its top (an OCI layout's index.json), as a person looks for them,
// and a layer of an image picked by number or digest.
import { LazyImageError } from '../errors.js';
import { count } from '../format.js';
import { ANNOTATION_REF_NAME, isIndexMediaType, MediaType, parseDigest, type CallOptions, type Descriptor, type ImageDocument, type ImageStore, type LayoutReference } from '../oci/index.js';
import { SOCI_INDEX_V1, SOCI_INDEX_V2 } from '../soci/index.js';

/**
 * The tagged entries, and untagged ones that are images of their own. Left out: manifests an
 * index of the store lists (the platforms of a SOCI-enabled image, which `soci convert` and
 * `lazyimg index` also list at the top) and SOCI index manifests, which belong under the image
 * they describe.
 */
export async function listImages(store: ImageStore, options: CallOptions = {}): Promise<Descriptor[]> {
  if (!store.listManifests) throw new LazyImageError('UNSUPPORTED', `${store.name} lists tags, not manifests: list its tags`, { ref: store.name });
  const manifests = await store.listManifests(options);
  const children = new Set<string>();
  for (const m of manifests) {
    if (!isIndexMediaType(m.mediaType)) continue;
    const doc = await store.getManifest(m, options).catch(() => undefined); // a broken one shows its error when opened
    if (doc?.kind === 'index') for (const child of doc.index.manifests) children.add(child.digest);
  }
  const images: Descriptor[] = [];
  for (const m of manifests) {
    if (m.annotations?.[ANNOTATION_REF_NAME] !== undefined) {
      images.push(m);
      continue;
    }
    if (children.has(m.digest)) continue;
    const doc = m.mediaType === MediaType.OciManifest && !m.artifactType ? await store.getManifest(m, options).catch(() => undefined) : undefined;
    const type = m.artifactType ?? (doc?.kind === 'manifest' ? doc.manifest.config.mediaType : undefined);
    if (type !== SOCI_INDEX_V1 && type !== SOCI_INDEX_V2) images.push(m);
  }
  return images;
}

/** An image `listImages` found in the layout at `path`: its reference (by tag when it has one) and its name, the tag or `@` and 12 hex digits. */
export function layoutImage(path: string, listed: Descriptor): { ref: LayoutReference; label: string } {
  const tag = listed.annotations?.[ANNOTATION_REF_NAME];
  if (tag !== undefined) return { ref: { kind: 'oci-layout', path, tag }, label: tag };
  return { ref: { kind: 'oci-layout', path, digest: listed.digest }, label: `@${parseDigest(listed.digest).hex.slice(0, 12)}` };
}

/** A layer by 1-based number or by digest (a unique prefix of the hex is enough). */
export function selectLayer(image: ImageDocument, selector: string, where: string): { layer: Descriptor; index: number } {
  const layers = image.manifest.layers;
  let index: number;
  if (/^\d+$/.test(selector)) {
    index = Number(selector);
    if (index < 1 || index > layers.length) throw new LazyImageError('NOT_FOUND', `${where} has ${count(layers.length, 'layer')}; there is no layer ${selector}`, { ref: where });
  } else {
    const hex = selector.replace(/^sha256:/, '');
    const matches = layers.map((l, i) => ({ l, i })).filter(({ l }) => l.digest.startsWith(`sha256:${hex}`));
    if (hex.length < 4 || matches.length !== 1) {
      throw new LazyImageError('NOT_FOUND', `${where}: ${matches.length ? 'more than one layer matches' : 'no layer matches'} ${selector}; give a layer number (1-${layers.length}) or more of its digest`, { ref: where });
    }
    index = matches[0]!.i + 1;
  }
  return { layer: layers[index - 1]!, index };
}
