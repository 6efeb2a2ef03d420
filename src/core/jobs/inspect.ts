// `inspect`: an image's index, its manifest per platform, config and layers, and per image what
// makes its layers lazy (eStargz annotations, the zTOCs of the SOCI indexes found as
// soci-snapshotter finds them).
import { isImageConfig, laziness, walkIndex, type LayerLaziness } from '../image/index.js';
import type { Annotations, CallOptions, Descriptor, ImageDocument, ImageStore, Platform } from '../oci/index.js';
import { isSociIndexConfig, type SociVersion } from '../soci/index.js';

export interface LayerInfo {
  digest: string;
  size: number;
  mediaType: string;
  annotations: Annotations;
  /** Set when the layer's annotations mark it as lazily pullable; `verify` checks that it really is. */
  lazy?: { format: 'estargz'; tocDigest: string; uncompressedSize?: number };
  /** Set when one of the image's SOCI indexes has a zTOC for the layer (and a prefetch artifact); `verify` checks them. */
  soci?: { index: string; ztoc: string; prefetch?: string };
}

export interface ManifestInfo {
  platform: Platform | null;
  digest: string;
  mediaType: string;
  /** Set for artifacts (e.g. attestations, SOCI indexes) listed in an index. */
  artifactType?: string;
  config: { digest: string; size: number; mediaType: string };
  layers: LayerInfo[];
  /** The image's SOCI indexes, v2 (named by its annotation) first, then v1 (its referrers), with their counts of zTOCs and prefetch artifacts. */
  soci?: Array<{ index: string; version: SociVersion; ztocs: number; prefetch?: number }>;
}

export interface InspectResult {
  reference: string;
  digest: string;
  mediaType: string;
  manifests: ManifestInfo[];
}

export async function inspectImage(store: ImageStore, tagOrDigest: string | undefined, reference: string, options: CallOptions = {}): Promise<InspectResult> {
  const root = await store.getManifest(await store.resolve(tagOrDigest, options), options);
  const manifests: ManifestInfo[] = [];
  for await (const { doc, listed } of walkIndex(store, root, options)) {
    if (doc.kind === 'manifest') manifests.push(await manifestInfo(store, doc, listed, options));
  }
  return { reference, digest: root.descriptor.digest, mediaType: root.descriptor.mediaType, manifests };
}

async function manifestInfo(store: ImageStore, doc: ImageDocument, listed: Descriptor | undefined, options: CallOptions): Promise<ManifestInfo> {
  const { manifest, descriptor } = doc;
  const artifactType = manifest.artifactType ?? listed?.artifactType;
  const info: ManifestInfo = {
    platform: listed?.platform ?? null,
    digest: descriptor.digest,
    mediaType: descriptor.mediaType,
    ...(artifactType ? { artifactType } : {}),
    config: { digest: manifest.config.digest, size: manifest.config.size, mediaType: manifest.config.mediaType },
    layers: manifest.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType, annotations: l.annotations ?? {} })),
  };
  if (artifactType || isSociIndexConfig(manifest.config.mediaType) || !isImageConfig(manifest.config.mediaType)) return info;
  const lazy = await laziness(store, doc, { listed, signal: options.signal });
  info.platform = lazy.platform ?? null;
  lazy.layers.forEach((l, i) => Object.assign(info.layers[i]!, layerLaziness(l)));
  const soci = lazy.sociIndexes.flatMap((f) => (f.index ? [{ index: f.digest, version: f.index.version, ztocs: f.index.ztocs.size, ...(f.index.prefetch.size ? { prefetch: f.index.prefetch.size } : {}) }] : []));
  if (soci.length) info.soci = soci;
  return info;
}

function layerLaziness(l: LayerLaziness): Pick<LayerInfo, 'lazy' | 'soci'> {
  const { estargz, soci } = l;
  return {
    ...(estargz ? { lazy: { format: 'estargz' as const, tocDigest: estargz.tocDigest, ...(estargz.uncompressedSize !== undefined ? { uncompressedSize: estargz.uncompressedSize } : {}) } } : {}),
    ...(soci ? { soci: { index: soci.index, ztoc: soci.ztoc.digest, ...(soci.prefetch ? { prefetch: soci.prefetch.digest } : {}) } } : {}),
  };
}
