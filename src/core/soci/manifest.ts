// The SOCI index: an OCI image manifest whose config media type names the index version and whose
// "layers" are the zTOCs, each annotated with the image layer it describes. v1 points at the image
// with `subject` (found through the referrers API); v2 has none and is found through an annotation
// on a rewritten image manifest, inside a new image index.
import { LazyImageError } from '../errors.js';
import { MediaType, sha256, type Descriptor, type ImageManifest, type ManifestDocument } from '../oci/index.js';
import { goManifest } from './goJson.js';
import { BUILD_TOOL_IDENTIFIER } from './ztoc.js';

/** soci's default: smaller layers get no zTOC and are fetched whole. */
export const DEFAULT_MIN_LAYER_SIZE = 10 * 1024 * 1024;
export const SOCI_INDEX_V1 = 'application/vnd.amazon.soci.index.v1+json';
export const SOCI_INDEX_V2 = 'application/vnd.amazon.soci.index.v2+json';
export const ZTOC_MEDIA_TYPE = 'application/octet-stream';
/** A layer's prefetch artifact (prefetch.ts), listed after the zTOCs. */
export const PREFETCH_MEDIA_TYPE = 'application/vnd.amazon.soci.prefetch.v1+json';
export const LAYER_DIGEST_ANNOTATION = 'com.amazon.soci.image-layer-digest';
export const LAYER_MEDIA_TYPE_ANNOTATION = 'com.amazon.soci.image-layer-mediaType';
export const SPAN_SIZE_ANNOTATION = 'com.amazon.soci.span-size';
export const BUILD_TOOL_ANNOTATION = 'com.amazon.soci.build-tool-identifier';
/** v2: on the image manifest, the SOCI index's digest; on the index's descriptor, the image manifest's. */
export const INDEX_DIGEST_ANNOTATION = 'com.amazon.soci.index-digest';
export const IMAGE_MANIFEST_DIGEST_ANNOTATION = 'com.amazon.soci.image-manifest-digest';
/** The config blob of every SOCI index: the two bytes `{}`. */
export const EMPTY_CONFIG = Buffer.from('{}');

export type SociVersion = 'v1' | 'v2';

export interface ZtocRef {
  ztoc: Descriptor;
  layer: Descriptor;
  spanSize: number;
}

/**
 * The index manifest's bytes, as soci writes them (the snapshotter re-serializes and checks the
 * digest); `subject`, the image manifest, is used by v1 only. Prefetch artifacts follow the zTOCs.
 */
export function sociIndexManifest(version: SociVersion, ztocs: ZtocRef[], subject?: Descriptor, prefetch: Descriptor[] = []): Buffer {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: version === 'v1' ? SOCI_INDEX_V1 : SOCI_INDEX_V2, digest: sha256(EMPTY_CONFIG), size: EMPTY_CONFIG.length },
    layers: [
      ...ztocs.map((z) => ({
        mediaType: ZTOC_MEDIA_TYPE, digest: z.ztoc.digest, size: z.ztoc.size,
        annotations: { [LAYER_DIGEST_ANNOTATION]: z.layer.digest, [LAYER_MEDIA_TYPE_ANNOTATION]: z.layer.mediaType, [SPAN_SIZE_ANNOTATION]: String(z.spanSize) },
      })),
      ...prefetch,
    ],
    ...(version === 'v1' && subject ? { subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size } } : {}),
    annotations: { [BUILD_TOOL_ANNOTATION]: BUILD_TOOL_IDENTIFIER },
  };
  return goManifest(manifest);
}

/** True for the config media type of a SOCI index manifest (whose "layers" are zTOCs). */
export function isSociIndexConfig(mediaType: string): boolean {
  return mediaType === SOCI_INDEX_V1 || mediaType === SOCI_INDEX_V2;
}

/**
 * How a v2 SOCI-enabled image index lists a SOCI index: beside the image manifest it describes,
 * with that manifest's digest and platform (as `soci convert` writes it).
 */
export function sociIndexDescriptor(index: Descriptor, image: Descriptor): Descriptor {
  return {
    mediaType: MediaType.OciManifest, digest: index.digest, size: index.size,
    annotations: { [IMAGE_MANIFEST_DIGEST_ANNOTATION]: image.digest },
    ...(image.platform ? { platform: image.platform } : {}),
    artifactType: SOCI_INDEX_V2,
  };
}

/** True for the descriptor of a v2 SOCI index that an image index lists for `image`. */
export function describesSociIndexOf(listed: Descriptor, image: string): boolean {
  return listed.artifactType === SOCI_INDEX_V2 && listed.annotations?.[IMAGE_MANIFEST_DIGEST_ANNOTATION] === image;
}

export interface SociIndex {
  descriptor: Descriptor;
  version: SociVersion;
  /** zTOCs by the digest of the layer they describe. */
  ztocs: Map<string, Descriptor>;
  /** Prefetch artifacts by layer digest: the first for each layer, as the snapshotter picks it. */
  prefetch: Map<string, Descriptor>;
  subject?: Descriptor;
  buildTool?: string;
  /** What would make the snapshotter refuse or ignore it, or a part of it. */
  problems: string[];
  /** Set when the snapshotter refuses the whole index: why. */
  refused?: string;
}

/** Reads a SOCI index manifest the way the snapshotter does, listing what it would object to. */
export function parseSociIndex(doc: ManifestDocument, where: string): SociIndex {
  if (doc.kind !== 'manifest') throw new LazyImageError('INVALID_FORMAT', `${where}: a SOCI index is an image manifest, not an index`, { ref: where });
  const m = doc.manifest;
  const version = m.config.mediaType === SOCI_INDEX_V1 ? 'v1' : m.config.mediaType === SOCI_INDEX_V2 ? 'v2' : undefined;
  if (!version) throw new LazyImageError('INVALID_FORMAT', `${where}: config media type ${m.config.mediaType} is not a SOCI index version`, { ref: where });
  const problems: string[] = [];
  const ztocs = new Map<string, Descriptor>();
  const prefetch = new Map<string, Descriptor>();
  for (const [i, l] of m.layers.entries()) {
    const layer = l.annotations?.[LAYER_DIGEST_ANNOTATION];
    if (l.mediaType === ZTOC_MEDIA_TYPE) {
      if (!layer) problems.push(`zTOC ${i + 1} (${l.digest}) has no ${LAYER_DIGEST_ANNOTATION} annotation, so no layer uses it`);
      else ztocs.set(layer, l);
    } else if (l.mediaType === PREFETCH_MEDIA_TYPE) {
      if (!layer) problems.push(`prefetch artifact ${l.digest} has no ${LAYER_DIGEST_ANNOTATION} annotation, so no layer uses it`);
      else if (!prefetch.has(layer)) prefetch.set(layer, l);
    }
  }
  if (ztocs.size === 0) problems.push('it lists no zTOC');
  // The snapshotter looks for a prefetch artifact only while it mounts a layer through its zTOC.
  for (const [layer, p] of prefetch) if (!ztocs.has(layer)) problems.push(`prefetch artifact ${p.digest} is for layer ${layer}, which has no zTOC here, so it is never read`);
  const refused = goManifest(m).equals(doc.bytes) ? undefined : 'its JSON is not what Go writes for it, so the snapshotter stores it under a different digest and refuses it';
  if (refused) problems.push(refused);
  if (version === 'v1' && !m.subject) problems.push('a v1 index without a subject cannot be found through the referrers API');
  return { descriptor: doc.descriptor, version, ztocs, prefetch, subject: m.subject, buildTool: m.annotations?.[BUILD_TOOL_ANNOTATION], problems, refused };
}
