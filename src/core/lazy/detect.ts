// Which layers of an image a remote snapshotter can pull lazily, and why not the others: eStargz
// (the TOC-digest annotation the stargz snapshotter looks for), SOCI (a v2 index named by the
// manifest's annotation, or a v1 index among its referrers, with a zTOC for the layer).
import { LazyImageError } from '../errors.js';
import { hostPlatform, parseImageConfig, platformMatches, readBlob, type Descriptor, type ImageConfig, type ImageStore, type Platform } from '../oci/index.js';

export const ESTARGZ_TOC_DIGEST = 'containerd.io/snapshot/stargz/toc.digest';
export const SOCI_INDEX_DIGEST = 'com.amazon.soci.index-digest';
export const SOCI_LAYER_DIGEST = 'com.amazon.soci.image-layer-digest';
export const SOCI_V1 = 'application/vnd.amazon.soci.index.v1+json';
export const SOCI_V2 = 'application/vnd.amazon.soci.index.v2+json';
/** soci-snapshotter's default: smaller layers get no zTOC and are fetched whole. */
export const SOCI_MIN_LAYER_SIZE = 10 * 1024 * 1024;

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
  let doc = await store.getManifest(await store.resolve(tagOrDigest, call), call);
  let entry: Descriptor | undefined;
  if (doc.kind === 'index') {
    const want = options.platform ?? hostPlatform();
    entry = doc.index.manifests.find((m) => platformMatches(m.platform, want) && m.artifactType === undefined);
    if (!entry) throw new LazyImageError('NOT_FOUND', `${store.name} has no ${want.os}/${want.architecture} image`, { ref: store.name });
    doc = await store.getManifest(entry, call);
  }
  if (doc.kind !== 'manifest') throw new LazyImageError('INVALID_FORMAT', `${store.name}: an index inside an index is not an image`, { ref: store.name });
  const { manifest, descriptor } = doc;
  const config = parseImageConfig(await readBlob(store, manifest.config, MAX_CONFIG_BYTES, call), `config of ${store.name}`);

  const indexes: Array<{ digest: string; version: 'v1' | 'v2' }> = [];
  const v2 = manifest.annotations?.[SOCI_INDEX_DIGEST] ?? entry?.annotations?.[SOCI_INDEX_DIGEST];
  if (v2) indexes.push({ digest: v2, version: 'v2' });
  for (const r of await store.referrers(descriptor.digest, SOCI_V1, call)) indexes.push({ digest: r.digest, version: 'v1' });

  // Layer digest -> the zTOC that makes it lazy, from the first index that has one.
  const ztocs = new Map<string, { version: 'v1' | 'v2'; index: string; ztoc: string }>();
  for (const index of indexes) {
    const soci = await store.getManifest(index.digest, call);
    if (soci.kind !== 'manifest' || (soci.manifest.config.mediaType !== SOCI_V1 && soci.manifest.config.mediaType !== SOCI_V2)) continue;
    for (const z of soci.manifest.layers) {
      const layer = z.annotations?.[SOCI_LAYER_DIGEST];
      if (layer && z.mediaType === 'application/octet-stream' && !ztocs.has(layer)) ztocs.set(layer, { version: index.version, index: index.digest, ztoc: z.digest });
    }
  }

  const layers = manifest.layers.map((layer): LayerLaziness => {
    const toc = layer.annotations?.[ESTARGZ_TOC_DIGEST];
    if (toc) return { descriptor: layer, laziness: { format: 'estargz', tocDigest: toc } };
    const soci = ztocs.get(layer.digest);
    if (soci) return { descriptor: layer, laziness: { format: 'soci', ...soci } };
    const reason = indexes.length && layer.size < SOCI_MIN_LAYER_SIZE
      ? 'under SOCI\'s 10 MiB minimum: pulled whole'
      : indexes.length ? 'not in the SOCI index' : 'no eStargz TOC and no SOCI index: pulled whole';
    return { descriptor: layer, laziness: { format: 'none', reason } };
  });
  return { manifest: descriptor, config, layers, sociIndexes: indexes };
}
