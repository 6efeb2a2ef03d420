// A reference's image: the document its tag or digest names, and the platform's image manifest in
// it (the host's platform by default), with an error that lists what an index does have.
import { LazyImageError } from '../errors.js';
import { formatPlatform, hostPlatform, MediaType, platformMatches, type CallOptions, type Descriptor, type ImageDocument, type ImageStore, type IndexDocument, type ManifestDocument, type Platform } from '../oci/index.js';

/** What a reference names: its top document, and the image in it (the platform's, from an index). */
export interface ResolvedImage {
  root: ManifestDocument;
  image: ImageDocument;
}

export interface ResolveOptions extends CallOptions {
  /** The platform to pick from an index; the host's by default. */
  platform?: Platform;
}

/** The manifest for `want` (the host's platform by default); `action` starts the error message, e.g. "Cannot copy". */
export async function pickPlatform(store: ImageStore, index: IndexDocument, want: Platform | undefined, action: string, options: CallOptions = {}): Promise<ManifestDocument> {
  const platform = want ?? hostPlatform();
  const match = index.index.manifests.find((m) => platformMatches(m.platform, platform) && m.artifactType === undefined);
  if (!match) {
    const have = index.index.manifests.filter((m) => m.artifactType === undefined).map((m) => formatPlatform(m.platform)).join(', ');
    throw new LazyImageError('NOT_FOUND', `${action} ${store.name}: no ${formatPlatform(platform)} image in its index (it has: ${have}); use --all-platforms or --platform`, { ref: store.name });
  }
  return store.getManifest(match, options);
}

/**
 * The images a job works on in `root`: itself, every platform's image of an index (attestations
 * and other artifacts left out), or the one platform's (the host's by default).
 */
export async function platformImages(
  store: ImageStore, root: ManifestDocument, options: { platform?: Platform; allPlatforms?: boolean }, action: string, call: CallOptions = {},
): Promise<ManifestDocument[]> {
  if (root.kind === 'manifest') return [root];
  if (options.allPlatforms) return Promise.all(root.index.manifests.filter(isPlatformImage).map((m) => store.getManifest(m, call)));
  return [await pickPlatform(store, root, options.platform, action, call)];
}

function isPlatformImage(d: Descriptor): boolean {
  return d.artifactType === undefined && d.platform?.os !== 'unknown' && (d.mediaType === MediaType.OciManifest || d.mediaType === MediaType.DockerManifest);
}

/** Resolves a tag or digest to one image; `action` starts the error message, e.g. "Cannot read a file of". */
export async function resolveImage(store: ImageStore, tagOrDigest: string | undefined, action: string, options: ResolveOptions = {}): Promise<ResolvedImage> {
  const call = { signal: options.signal };
  const root = await store.getManifest(await store.resolve(tagOrDigest, call), call);
  const image = root.kind === 'index' ? await pickPlatform(store, root, options.platform, action, call) : root;
  if (image.kind !== 'manifest') throw new LazyImageError('INVALID_FORMAT', `${store.name}: an index inside an index is not an image`, { ref: store.name });
  return { root, image };
}
