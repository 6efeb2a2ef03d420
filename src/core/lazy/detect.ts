// Which layers of an image a remote snapshotter can pull lazily, and why not the others: eStargz
// (the TOC-digest annotation the stargz snapshotter looks for), SOCI (a v2 index named by the
// manifest's annotation, or a v1 index among its referrers, with a zTOC for the layer).
import { TOC_DIGEST_ANNOTATION } from '../estargz/verify.js';
import { resolveImage } from '../jobs/platforms.js';
import { sociIndexDigests } from '../jobs/soci.js';
import { parseImageConfig, readBlob, type Descriptor, type ImageConfig, type ImageStore, type Platform } from '../oci/index.js';
import { DEFAULT_MIN_LAYER_SIZE, LAYER_DIGEST_ANNOTATION, SOCI_INDEX_V1, SOCI_INDEX_V2, ZTOC_MEDIA_TYPE } from '../soci/manifest.js';

const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export type Laziness =
  | { format: 'estargz'; tocDigest: string }
  | { format: 'soci'; version: 'v1' | 'v2'; index: string; ztoc: string }
  | { format: 'none'; reason: string };

export interface LayerLaziness {
  descriptor: Descriptor;
  laziness: Laziness;
}

export interface ImageLaziness {
  manifest: Descriptor;
  config: ImageConfig;
  layers: LayerLaziness[];
  /** SOCI index manifests found for this image. */
  sociIndexes: Array<{ digest: string; version: 'v1' | 'v2' }>;
}

export async function detectLaziness(store: ImageStore, tagOrDigest: string | undefined, options: { platform?: Platform; signal?: AbortSignal } = {}): Promise<ImageLaziness> {
  const call = options.signal ? { signal: options.signal } : {};
  const { root, image } = await resolveImage(store, tagOrDigest, 'Cannot find the layers of', options);
  const { manifest, descriptor } = image;
  const config = parseImageConfig(await readBlob(store, manifest.config, MAX_CONFIG_BYTES, call), `config of ${store.name}`);

  const indexes: Array<{ digest: string; version: 'v1' | 'v2' }> = [];
  // Layer digest -> the zTOC that makes it lazy, from the first index that has one.
  const ztocs = new Map<string, { version: 'v1' | 'v2'; index: string; ztoc: string }>();
  for (const digest of await sociIndexDigests(store, image, root, call)) {
    const soci = await store.getManifest(digest, call);
    const type = soci.kind === 'manifest' ? soci.manifest.config.mediaType : undefined;
    if (soci.kind !== 'manifest' || (type !== SOCI_INDEX_V1 && type !== SOCI_INDEX_V2)) continue;
    const version = type === SOCI_INDEX_V1 ? 'v1' : 'v2';
    indexes.push({ digest, version });
    for (const z of soci.manifest.layers) {
      const layer = z.annotations?.[LAYER_DIGEST_ANNOTATION];
      if (layer && z.mediaType === ZTOC_MEDIA_TYPE && !ztocs.has(layer)) ztocs.set(layer, { version, index: digest, ztoc: z.digest });
    }
  }

  const layers = manifest.layers.map((layer): LayerLaziness => {
    const toc = layer.annotations?.[TOC_DIGEST_ANNOTATION];
    if (toc) return { descriptor: layer, laziness: { format: 'estargz', tocDigest: toc } };
    const soci = ztocs.get(layer.digest);
    if (soci) return { descriptor: layer, laziness: { format: 'soci', ...soci } };
    const reason = indexes.length && layer.size < DEFAULT_MIN_LAYER_SIZE
      ? 'under SOCI\'s 10 MiB minimum: pulled whole'
      : indexes.length ? 'not in the SOCI index' : 'no eStargz TOC and no SOCI index: pulled whole';
    return { descriptor: layer, laziness: { format: 'none', reason } };
  });
  return { manifest: descriptor, config, layers, sociIndexes: indexes };
}
