// The one answer to "which layers of this image can a remote snapshotter mount lazily, how, and
// why not the others", from manifests alone (`verify` checks that the content agrees):
// - eStargz: the TOC-digest annotation stargz-snapshotter needs on the layer;
// - SOCI: a zTOC for the layer in one of the image's SOCI indexes, found the way soci-snapshotter
//   finds them (v2: the manifest's `com.amazon.soci.index-digest` annotation, or an entry of the
//   image index; v1: the manifest's referrers).
import { describeError, LazyImageError } from '../errors.js';
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION } from '../estargz/index.js';
import { MediaType, type CallOptions, type Descriptor, type ImageConfig, type ImageDocument, type ImageStore, type ManifestDocument, type Platform } from '../oci/index.js';
import { DEFAULT_MIN_LAYER_SIZE, describesSociIndexOf, INDEX_DIGEST_ANNOTATION, parseSociIndex, SOCI_INDEX_V1, type SociIndex, type SociVersion } from '../soci/index.js';
import { imagePlatform, isImageConfig, readImageConfig } from './config.js';
import { resolveImage, type ResolveOptions } from './resolve.js';

export interface EstargzLaziness {
  tocDigest: string;
  uncompressedSize?: number;
}

export interface SociLaziness {
  version: SociVersion;
  /** The SOCI index manifest's digest. */
  index: string;
  ztoc: Descriptor;
  /** The index's prefetch artifact for the layer: spans fetched at mount where prefetch is enabled. */
  prefetch?: Descriptor;
}

export interface LayerLaziness {
  descriptor: Descriptor;
  /** 1-based, from the base. */
  index: number;
  /** stargz-snapshotter mounts it lazily. */
  estargz?: EstargzLaziness;
  /** soci-snapshotter mounts it lazily (v1 indexes only where `pull_modes.soci_v1` is on). */
  soci?: SociLaziness;
  /** Set when neither does: why it is pulled whole. */
  reason?: string;
  /** Set when soci-snapshotter does not mount it lazily: why. */
  sociReason?: string;
}

/** A SOCI index named for the image: read and parsed (when it could be), and why the snapshotter cannot use it. */
export interface FoundSociIndex {
  digest: string;
  index?: SociIndex;
  /** It is missing, unreadable or refused: the snapshotter goes on as if it were not there. */
  error?: string;
}

export interface ImageLaziness {
  image: Descriptor;
  platform?: Platform;
  /** None for an artifact, whose config is no image config. */
  config?: ImageConfig;
  layers: LayerLaziness[];
  /** In the order soci-snapshotter tries them: v2 first, then v1 referrers. */
  sociIndexes: FoundSociIndex[];
}

export interface LazinessOptions extends CallOptions {
  /** The index the image was picked from: its SOCI index entries count too. */
  root?: ManifestDocument;
  /** How that index lists the image (its platform). */
  listed?: Descriptor;
}

/** The laziness of the image a tag or digest names (the platform's, from an index). */
export async function imageLaziness(store: ImageStore, tagOrDigest: string | undefined, options: ResolveOptions = {}): Promise<ImageLaziness> {
  const { root, image } = await resolveImage(store, tagOrDigest, 'Cannot find the layers of', options);
  return laziness(store, image, { root, signal: options.signal });
}

export async function laziness(store: ImageStore, image: ImageDocument, options: LazinessOptions = {}): Promise<ImageLaziness> {
  const call = { signal: options.signal };
  const config = isImageConfig(image.manifest.config.mediaType) ? await readImageConfig(store, image.manifest.config, call) : undefined;
  const sociIndexes = await findSociIndexes(store, image, options.root, call);
  // Layer digest -> its zTOC, from the first usable index that has one.
  const ztocs = new Map<string, SociLaziness>();
  for (const found of sociIndexes) {
    if (found.error) continue;
    for (const [layer, ztoc] of found.index?.ztocs ?? []) {
      const prefetch = found.index!.prefetch.get(layer);
      if (!ztocs.has(layer)) ztocs.set(layer, { version: found.index!.version, index: found.digest, ztoc, ...(prefetch ? { prefetch } : {}) });
    }
  }
  const layers = image.manifest.layers.map((descriptor, i): LayerLaziness => {
    const estargz = estargzLaziness(descriptor);
    const soci = ztocs.get(descriptor.digest);
    const sociReason = soci ? undefined : whyNot(descriptor, sociIndexes);
    return { descriptor, index: i + 1, estargz, soci, reason: estargz ? undefined : sociReason, sociReason };
  });
  return { image: image.descriptor, platform: imagePlatform(config, options.listed), config, layers, sociIndexes };
}

/** In words: `lazy (eStargz)`, `lazy (SOCI v2)`, `lazy (eStargz, SOCI v1)`, or why the layer is pulled whole. */
export function describeLaziness(layer: LayerLaziness): string {
  const formats = [layer.estargz ? 'eStargz' : '', layer.soci ? `SOCI ${layer.soci.version}` : ''].filter(Boolean);
  return formats.length ? `lazy (${formats.join(', ')})` : layer.reason ?? 'pulled whole';
}

/** What one snapshotter is expected to do with the layer: mount it lazily, or pull it whole and why. */
export function lazinessFor(layer: LayerLaziness, snapshotter: 'stargz' | 'soci'): { lazy: boolean; text: string } {
  if (snapshotter === 'stargz') return layer.estargz ? { lazy: true, text: 'lazy (eStargz)' } : { lazy: false, text: 'no eStargz TOC-digest annotation: pulled whole' };
  return layer.soci ? { lazy: true, text: `lazy (SOCI ${layer.soci.version})` } : { lazy: false, text: layer.sociReason ?? 'pulled whole' };
}

/** The snapshotter that would mount more of the image's layers lazily (stargz on a tie); none when neither would mount any. */
export function preferredSnapshotter(image: ImageLaziness): 'stargz' | 'soci' | undefined {
  const lazy = (snapshotter: 'stargz' | 'soci'): number => image.layers.filter((l) => lazinessFor(l, snapshotter).lazy).length;
  const [stargz, soci] = [lazy('stargz'), lazy('soci')];
  if (stargz === 0 && soci === 0) return undefined;
  return soci > stargz ? 'soci' : 'stargz';
}

export interface LazinessSummary {
  /** Every layer lazy, some, or none. */
  level: 'lazy' | 'partly' | 'none';
  /** `eStargz`, `SOCI v2`, `partly lazy (1/3 layers, SOCI v2)`, `not lazy`. */
  text: string;
}

/** The image in a few words, for a row or a status line. */
export function summarizeLaziness(image: ImageLaziness): LazinessSummary {
  const layers = image.layers;
  const lazy = layers.filter((l) => !l.reason);
  const formats = [
    layers.some((l) => l.estargz) ? 'eStargz' : '',
    ...new Set(layers.flatMap((l) => (l.soci ? [`SOCI ${l.soci.version}`] : []))),
  ].filter(Boolean).join(', ');
  if (layers.length === 0 || lazy.length === 0) return { level: 'none', text: 'not lazy' };
  if (lazy.length === layers.length) return { level: 'lazy', text: formats };
  return { level: 'partly', text: `partly lazy (${lazy.length}/${layers.length} layers, ${formats})` };
}

function estargzLaziness(layer: Descriptor): EstargzLaziness | undefined {
  const tocDigest = layer.annotations?.[TOC_DIGEST_ANNOTATION];
  if (!tocDigest) return undefined;
  const uncompressed = Number(layer.annotations?.[UNCOMPRESSED_SIZE_ANNOTATION]);
  return { tocDigest, uncompressedSize: Number.isSafeInteger(uncompressed) ? uncompressed : undefined };
}

function whyNot(layer: Descriptor, indexes: FoundSociIndex[]): string {
  const usable = indexes.filter((f) => !f.error);
  if (indexes.length === 0) return 'no eStargz TOC annotation and no SOCI index: pulled whole';
  if (usable.length === 0) return `its SOCI index cannot be used (${indexes.map((f) => f.error).join('; ')}): pulled whole`;
  if (layer.mediaType === MediaType.OciLayerZstd) return 'zstd, which SOCI does not index: pulled whole';
  if (layer.size < DEFAULT_MIN_LAYER_SIZE) return 'under SOCI\'s 10 MiB minimum layer size: pulled whole';
  return 'no zTOC for it in the SOCI index: pulled whole';
}

/**
 * The digests of an image's SOCI indexes, in the order soci-snapshotter tries them: v2, named by
 * the image manifest's annotation (and by entries of `root`, the image index, if given), then v1,
 * the image manifest's referrers.
 */
export async function sociIndexDigests(store: ImageStore, image: ImageDocument, root: ManifestDocument | undefined, options: CallOptions = {}): Promise<string[]> {
  const digests = new Set<string>();
  const annotated = image.manifest.annotations?.[INDEX_DIGEST_ANNOTATION];
  if (annotated) digests.add(annotated);
  if (root?.kind === 'index') {
    for (const d of root.index.manifests) if (describesSociIndexOf(d, image.descriptor.digest)) digests.add(d.digest);
  }
  for (const d of await store.referrers(image.descriptor.digest, SOCI_INDEX_V1, options)) digests.add(d.digest);
  return [...digests];
}

async function findSociIndexes(store: ImageStore, image: ImageDocument, root: ManifestDocument | undefined, options: CallOptions): Promise<FoundSociIndex[]> {
  const found: FoundSociIndex[] = [];
  for (const digest of await sociIndexDigests(store, image, root, options)) {
    try {
      const index = parseSociIndex(await store.getManifest(digest, options), `SOCI index ${digest} of ${store.name}`);
      found.push({ digest, index, error: index.refused });
    } catch (e) {
      if (!isContentProblem(e)) throw e;
      const missing = e.code === 'NOT_FOUND' ? 'named by the image but missing from the store' : describeError(e);
      found.push({ digest, error: missing });
    }
  }
  return found;
}

/** Failures that are about what a store holds, not about reaching it. */
export function isContentProblem(e: unknown): e is LazyImageError {
  return e instanceof LazyImageError && (e.code === 'DIGEST_MISMATCH' || e.code === 'INVALID_FORMAT' || e.code === 'NOT_FOUND');
}
