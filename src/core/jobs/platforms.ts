// Picking one image out of an index, with an error that lists what the index does have.
import { LazyImageError } from '../errors.js';
import { formatPlatform, hostPlatform, platformMatches, type ImageStore, type ManifestDocument, type Platform } from '../oci/index.js';

/** The manifest for `want` (the host's platform by default); `action` starts the error message, e.g. "Cannot copy". */
export async function pickPlatform(store: ImageStore, index: Extract<ManifestDocument, { kind: 'index' }>, want: Platform | undefined, action: string, options: { signal?: AbortSignal } = {}): Promise<ManifestDocument> {
  const platform = want ?? hostPlatform();
  const match = index.index.manifests.find((m) => platformMatches(m.platform, platform) && m.artifactType === undefined);
  if (!match) {
    const have = index.index.manifests.map((m) => formatPlatform(m.platform)).join(', ');
    throw new LazyImageError('NOT_FOUND', `${action} ${store.name}: no ${formatPlatform(platform)} image in its index (it has: ${have}); use --all-platforms or --platform`, { ref: store.name });
  }
  return store.getManifest(match, options);
}
