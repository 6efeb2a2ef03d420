// Picking one image out of an index, with an error that lists what the index does have, and
// resolving a reference to one image.
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

/** What a reference names: its top document, and the image in it (the platform's, from an index). */
export interface ResolvedImage {
  root: ManifestDocument;
  image: Extract<ManifestDocument, { kind: 'manifest' }>;
}

/** Resolves a tag or digest to one image; `action` starts the error message, e.g. "Cannot read a file of". */
export async function resolveImage(store: ImageStore, tagOrDigest: string | undefined, action: string, options: { platform?: Platform; signal?: AbortSignal } = {}): Promise<ResolvedImage> {
  const call = options.signal ? { signal: options.signal } : {};
  const root = await store.getManifest(await store.resolve(tagOrDigest, call), call);
  const image = root.kind === 'index' ? await pickPlatform(store, root, options.platform, action, call) : root;
  if (image.kind !== 'manifest') throw new LazyImageError('INVALID_FORMAT', `${store.name}: an index inside an index is not an image`, { ref: store.name });
  return { root, image };
}
