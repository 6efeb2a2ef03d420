// How soci reads a layer of each media type: gzip, a plain tar (Docker's unqualified tar too), or
// zstd, which it skips. Shared by building a zTOC and rebuilding one to check it.
import { MediaType } from '../oci/index.js';

export type LayerCompression = 'gzip' | 'none' | 'zstd';

const COMPRESSION: Record<string, LayerCompression> = {
  [MediaType.OciLayerGzip]: 'gzip',
  [MediaType.DockerLayerGzip]: 'gzip',
  [MediaType.OciLayer]: 'none',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  [MediaType.OciLayerZstd]: 'zstd',
};

/** undefined for a media type that is no tar layer. */
export function layerCompression(mediaType: string): LayerCompression | undefined {
  return Object.hasOwn(COMPRESSION, mediaType) ? COMPRESSION[mediaType] : undefined;
}
