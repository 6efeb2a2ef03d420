// Finding an image's SOCI indexes as soci-snapshotter does (v2: the image manifest's
// `com.amazon.soci.index-digest` annotation, also listed in the image index; v1: the referrers
// of the image manifest, through the API or the fallback tag), and reading one layer's zTOC from
// them, checked as the snapshotter checks it at mount.
import { LazyImageError } from '../errors.js';
import { ANNOTATION_REF_NAME, MediaType, readBlob, type Descriptor, type ImageStore, type ManifestDocument, type OciLayoutStore, type Platform } from '../oci/index.js';
import { IMAGE_MANIFEST_DIGEST_ANNOTATION, INDEX_DIGEST_ANNOTATION, parseSociIndex, SOCI_INDEX_V1, SOCI_INDEX_V2, type SociIndex } from '../soci/manifest.js';
import { spanTable, type SpanTable } from '../soci/spans.js';
import { decodeZtoc, MAX_ZTOC_BYTES, type Ztoc } from '../soci/ztoc.js';
import type { ResolvedImage } from './platforms.js';
import { selectLayer } from './toc.js';

const MAX_INDEX_BYTES = 4 * 1024 * 1024;

export interface ImageSociIndexes {
  /** The platform image manifest the indexes describe. */
  image: Descriptor;
  /** v2 first (the snapshotter tries it first), then v1 in the order the store lists them. */
  indexes: SociIndex[];
}

/**
 * The digests of an image's SOCI indexes, in the order soci-snapshotter tries them: v2, named by
 * the image manifest's annotation (and by descriptors in `root`, the image index, if given),
 * then v1, the image manifest's referrers.
 */
export async function sociIndexDigests(store: ImageStore, image: ResolvedImage['image'], root: ManifestDocument | undefined, call: { signal?: AbortSignal } = {}): Promise<string[]> {
  const digests = new Set<string>();
  const annotated = image.manifest.annotations?.[INDEX_DIGEST_ANNOTATION];
  if (annotated) digests.add(annotated);
  if (root?.kind === 'index') {
    for (const d of root.index.manifests) {
      if (d.artifactType === SOCI_INDEX_V2 && d.annotations?.[IMAGE_MANIFEST_DIGEST_ANNOTATION] === image.descriptor.digest) digests.add(d.digest);
    }
  }
  for (const d of await store.referrers(image.descriptor.digest, SOCI_INDEX_V1, call)) digests.add(d.digest);
  return [...digests];
}

/** The SOCI indexes of an image, read and checked as the snapshotter reads them. */
export async function findSociIndexes(store: ImageStore, { root, image }: ResolvedImage, call: { signal?: AbortSignal } = {}): Promise<ImageSociIndexes> {
  const indexes: SociIndex[] = [];
  for (const digest of await sociIndexDigests(store, image, root, call)) {
    const where = `SOCI index ${digest} of ${store.name}`;
    let doc: ManifestDocument;
    try {
      doc = await store.getManifest(digest, call);
    } catch (e) {
      if (e instanceof LazyImageError && e.code === 'NOT_FOUND') throw new LazyImageError('NOT_FOUND', `${where} is named by the image but missing from the store: the snapshotter would pull without it`, { ref: store.name, cause: e });
      throw e;
    }
    if (doc.bytes.length > MAX_INDEX_BYTES) throw new LazyImageError('INVALID_FORMAT', `${where} is ${doc.bytes.length} bytes; the snapshotter cannot fetch a manifest over 4 MiB`, { ref: store.name });
    indexes.push(parseSociIndex(doc, where));
  }
  return { image: image.descriptor, indexes };
}

export interface LayerZtoc {
  layer: Descriptor;
  index: number;
  count: number;
  sociIndex: SociIndex;
  descriptor: Descriptor;
  ztoc: Ztoc;
  spans: SpanTable;
}

export async function readLayerZtoc(store: ImageStore, tagOrDigest: string | undefined, selector: string, options: { platform?: Platform; signal?: AbortSignal } = {}): Promise<LayerZtoc> {
  const call = options.signal ? { signal: options.signal } : {};
  const { layer, index, count, resolved } = await selectLayer(store, tagOrDigest, selector, options);
  const found = await findSociIndexes(store, resolved, call);
  if (found.indexes.length === 0) throw new LazyImageError('NOT_FOUND', `${store.name} has no SOCI index (no ${INDEX_DIGEST_ANNOTATION} annotation on its manifest): soci-snapshotter would pull it whole`, { ref: store.name });
  const sociIndex = found.indexes.find((ix) => ix.ztocs.has(layer.digest));
  if (!sociIndex) throw new LazyImageError('NOT_FOUND', `${store.name} layer ${index}/${count} (${layer.digest}) has no zTOC in its SOCI index: it is fetched whole (smaller than the minimum layer size when indexed, or zstd)`, { ref: store.name });
  const descriptor = sociIndex.ztocs.get(layer.digest)!;
  return { layer, index, count, sociIndex, descriptor, ...(await readZtoc(store, descriptor, layer, `${store.name} layer ${index}/${count}`, call)) };
}

/** A layer's zTOC, fetched, decoded and checked against the layer as at mount. */
export async function readZtoc(store: ImageStore, descriptor: Descriptor, layer: Descriptor, where: string, call: { signal?: AbortSignal }): Promise<{ ztoc: Ztoc; spans: SpanTable }> {
  const what = `zTOC ${descriptor.digest} of ${where}`;
  const ztoc = decodeZtoc(await readBlob(store, descriptor, MAX_ZTOC_BYTES, call), what);
  return { ztoc, spans: spanTable(ztoc, layer.size, what) };
}

/**
 * The entries of a layout's `index.json` a person looks for: the tagged ones, and untagged ones
 * that are images of their own. Left out: manifests listed by an index of the layout (the
 * platforms of a SOCI-enabled image, which `soci convert` and `lazyimg index` also list at the
 * top) and SOCI index manifests, which belong under the image they describe.
 */
export async function layoutImages(store: OciLayoutStore): Promise<Descriptor[]> {
  const { manifests } = await store.readIndex();
  const children = new Set<string>();
  for (const m of manifests) {
    if (m.mediaType !== MediaType.OciIndex && m.mediaType !== MediaType.DockerManifestList) continue;
    const doc = await store.getManifest(m).catch(() => undefined); // a broken one shows its error when opened
    if (doc?.kind === 'index') for (const child of doc.index.manifests) children.add(child.digest);
  }
  const images: Descriptor[] = [];
  for (const m of manifests) {
    if (m.annotations?.[ANNOTATION_REF_NAME] !== undefined) {
      images.push(m);
      continue;
    }
    if (children.has(m.digest)) continue;
    const doc = m.mediaType === MediaType.OciManifest && !m.artifactType ? await store.getManifest(m).catch(() => undefined) : undefined;
    const type = m.artifactType ?? (doc?.kind === 'manifest' ? doc.manifest.config.mediaType : undefined);
    if (type !== SOCI_INDEX_V1 && type !== SOCI_INDEX_V2) images.push(m);
  }
  return images;
}
