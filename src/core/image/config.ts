// An image's config blob, read within its size limit, and the platform an image is for.
import { MAX_CONFIG_BYTES } from '../limits.js';
import { parseImageConfig, readBlob, type CallOptions, type Descriptor, type ImageConfig, type ImageStore, type Platform } from '../oci/index.js';

export async function readImageConfig(store: ImageStore, config: Descriptor, options: CallOptions = {}): Promise<ImageConfig> {
  return parseImageConfig(await readBlob(store, config, MAX_CONFIG_BYTES, options), `config ${config.digest} of ${store.name}`);
}

/** The platform an index lists an image under or, for an image on its own, what its config says. */
export function imagePlatform(config: ImageConfig | undefined, listed?: Descriptor): Platform | undefined {
  if (listed?.platform) return listed.platform;
  if (!config?.os || !config.architecture) return undefined;
  return { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
}

/** Configs of container images (not of artifacts such as attestations or SOCI indexes). */
export function isImageConfig(mediaType: string): boolean {
  return mediaType.includes('container.image') || mediaType.includes('image.config');
}
