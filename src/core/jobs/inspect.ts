// `inspect`: an image's index, its manifest per platform, config and layers, and the SOCI indexes
// of each image as soci-snapshotter finds them (v2 annotation, v1 referrers).
import { LazyImageError, throwIfAborted } from '../errors.js';
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION } from '../estargz/verify.js';
import { parseImageConfig, readBlob, type Annotations, type Descriptor, type ImageStore, type ManifestDocument, type Platform } from '../oci/index.js';
import { parseSociIndex, SOCI_INDEX_V1, SOCI_INDEX_V2, type SociVersion } from '../soci/manifest.js';
import { sociIndexDigests } from './soci.js';

export interface LayerInfo {
  digest: string;
  size: number;
  mediaType: string;
  annotations: Annotations;
  /** Set when the layer's annotations mark it as lazily pullable; `verify` checks that it really is. */
  lazy?: { format: 'estargz'; tocDigest: string; uncompressedSize?: number };
  /** Set when one of the image's SOCI indexes has a zTOC for the layer; `verify` checks it. */
  soci?: { index: string; ztoc: string };
}

export interface ManifestInfo {
  platform: Platform | null;
  digest: string;
  mediaType: string;
  /** Set for artifacts (e.g. attestations, SOCI indexes) listed in an index. */
  artifactType?: string;
  config: { digest: string; size: number; mediaType: string };
  layers: LayerInfo[];
  /** The image's SOCI indexes, v2 (named by its annotation) first, then v1 (its referrers). */
  soci?: Array<{ index: string; version: SociVersion; ztocs: number }>;
}

export interface InspectResult {
  reference: string;
  digest: string;
  mediaType: string;
  manifests: ManifestInfo[];
}

export interface InspectOptions {
  signal?: AbortSignal;
}

/** Nested indexes deeper than this are refused rather than followed. */
const MAX_DEPTH = 4;
/** Image configs are small; a claimed size past this is hostile or broken. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export async function inspectImage(store: ImageStore, tagOrDigest: string | undefined, reference: string, options: InspectOptions = {}): Promise<InspectResult> {
  const root = await store.resolve(tagOrDigest, options);
  const doc = await store.getManifest(root, options);
  const manifests: ManifestInfo[] = [];
  await collect(store, doc, undefined, manifests, 0, options);
  return { reference, digest: doc.descriptor.digest, mediaType: doc.descriptor.mediaType, manifests };
}

async function collect(store: ImageStore, doc: ManifestDocument, platform: Platform | undefined, out: ManifestInfo[], depth: number, options: InspectOptions, artifactType?: string): Promise<void> {
  throwIfAborted(options.signal, store.name);
  if (doc.kind === 'index') {
    if (depth >= MAX_DEPTH) throw new LazyImageError('INVALID_FORMAT', `Cannot inspect ${store.name}: indexes nested deeper than ${MAX_DEPTH}`, { ref: store.name });
    for (const child of doc.index.manifests) {
      await collect(store, await store.getManifest(child, options), child.platform, out, depth + 1, options, child.artifactType);
    }
    return;
  }
  const { manifest, descriptor } = doc;
  const sociIndex = manifest.config.mediaType === SOCI_INDEX_V1 || manifest.config.mediaType === SOCI_INDEX_V2;
  const layers = manifest.layers.map(layerInfo);
  const soci = sociIndex || artifactType ? [] : await sociIndexes(store, doc, layers, options);
  out.push({
    platform: platform ?? (await platformFromConfig(store, manifest.config, options)),
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
    ...(manifest.artifactType ?? artifactType ? { artifactType: manifest.artifactType ?? artifactType } : {}),
    config: { digest: manifest.config.digest, size: manifest.config.size, mediaType: manifest.config.mediaType },
    layers,
    ...(soci.length ? { soci } : {}),
  });
}

/** The image's SOCI indexes, and on each layer the zTOC they hold for it. */
async function sociIndexes(store: ImageStore, doc: Extract<ManifestDocument, { kind: 'manifest' }>, layers: LayerInfo[], options: InspectOptions): Promise<NonNullable<ManifestInfo['soci']>> {
  const out: NonNullable<ManifestInfo['soci']> = [];
  for (const digest of await sociIndexDigests(store, doc, undefined, options)) {
    let index;
    try {
      index = parseSociIndex(await store.getManifest(digest, options), `SOCI index ${digest} of ${store.name}`);
    } catch (e) {
      // A missing or unreadable index is for `verify` to report; the image itself is fine to show.
      if (e instanceof LazyImageError && (e.code === 'NOT_FOUND' || e.code === 'INVALID_FORMAT' || e.code === 'DIGEST_MISMATCH')) continue;
      throw e;
    }
    out.push({ index: digest, version: index.version, ztocs: index.ztocs.size });
    for (const layer of layers) {
      const ztoc = index.ztocs.get(layer.digest);
      if (ztoc && !layer.soci) layer.soci = { index: digest, ztoc: ztoc.digest };
    }
  }
  return out;
}

/** A single-platform image names its platform only in the config blob. */
async function platformFromConfig(store: ImageStore, config: Descriptor, options: InspectOptions): Promise<Platform | null> {
  if (!config.mediaType.includes('container.image') && !config.mediaType.includes('image.config')) return null;
  const parsed = parseImageConfig(await readBlob(store, config, MAX_CONFIG_BYTES, options), `config ${config.digest} of ${store.name}`);
  if (!parsed.os || !parsed.architecture) return null;
  return { os: parsed.os, architecture: parsed.architecture, ...(parsed.variant ? { variant: parsed.variant } : {}) };
}

function layerInfo(l: Descriptor): LayerInfo {
  const annotations = l.annotations ?? {};
  const tocDigest = annotations[TOC_DIGEST_ANNOTATION];
  const uncompressed = Number(annotations[UNCOMPRESSED_SIZE_ANNOTATION]);
  const lazy = tocDigest ? { lazy: { format: 'estargz' as const, tocDigest, ...(Number.isSafeInteger(uncompressed) ? { uncompressedSize: uncompressed } : {}) } } : {};
  return { digest: l.digest, size: l.size, mediaType: l.mediaType, annotations, ...lazy };
}
