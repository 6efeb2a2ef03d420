// Referrers (distribution-spec v1.1): the API when the registry has it, else the tag schema
// `<alg>-<hex>` that pushers maintain as an image index.
import { LazyImageError } from '../errors.js';
import { MAX_MANIFEST_BYTES } from '../limits.js';
import { MediaType, parseDigest, parseManifest, type Descriptor, type ImageIndex } from '../oci/index.js';
import { readBody } from './body.js';
import { repositoryScope, type RegistryClient } from './client.js';
import { nextPageUrl } from './link.js';
import { getManifest, putManifest } from './manifests.js';
import { responseError } from './responseError.js';
import { header } from './transport.js';

/** The fallback tag for a subject digest: `sha256-<hex>` (algorithm cut to 32, hex to 64). */
export function referrersTag(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm.slice(0, 32)}-${hex.slice(0, 64)}`;
}

/** Per client: repositories known to lack the referrers API, so we skip straight to the tag. */
const noApi = new WeakMap<RegistryClient, Set<string>>();

export async function listReferrers(client: RegistryClient, repository: string, digest: string, artifactType?: string, signal?: AbortSignal): Promise<Descriptor[]> {
  const known = noApi.get(client) ?? new Set<string>();
  noApi.set(client, known);
  if (!known.has(repository)) {
    const viaApi = await fromApi(client, repository, digest, artifactType, signal);
    if (viaApi) return viaApi;
    known.add(repository);
  }
  const index = await fallbackIndex(client, repository, digest, signal);
  return filterType(index?.manifests ?? [], artifactType);
}

/** The API's answer, or undefined when the registry does not implement it (404). */
async function fromApi(client: RegistryClient, repository: string, digest: string, artifactType: string | undefined, signal?: AbortSignal): Promise<Descriptor[] | undefined> {
  const name = `${client.registry}/${repository}@${digest}`;
  const action = `Cannot list referrers of ${name}`;
  let next: string | URL | undefined = `/v2/${repository}/referrers/${digest}${artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : ''}`;
  const seen = new Set<string>();
  const found: Descriptor[] = [];
  let filtered = true;
  while (next !== undefined) {
    const res = await client.request({
      method: 'GET', path: next, scopes: [repositoryScope(repository, 'pull')], headers: { accept: MediaType.OciIndex },
      ...(signal ? { signal } : {}),
    });
    if (res.status === 404 && found.length === 0) {
      await res.body.dump();
      return undefined;
    }
    if (res.status !== 200) throw await responseError(res, 'GET', action, name);
    seen.add(res.url.href);
    const link = header(res, 'link');
    filtered &&= (header(res, 'oci-filters-applied') ?? '').split(',').map((s) => s.trim()).includes('artifactType');
    const doc = parseManifest(await readBody(res, MAX_MANIFEST_BYTES, action), MediaType.OciIndex, `referrers of ${name}`);
    if (doc.kind !== 'index') throw new LazyImageError('INVALID_FORMAT', `${action}: the registry did not answer with an image index`, { ref: name });
    found.push(...doc.index.manifests);
    const url = nextPageUrl(link, res.url, name);
    next = url && !seen.has(url.href) ? url : undefined;
  }
  // Registries may ignore the filter; they say so by not sending OCI-Filters-Applied.
  return filtered ? found : filterType(found, artifactType);
}

async function fallbackIndex(client: RegistryClient, repository: string, digest: string, signal?: AbortSignal): Promise<ImageIndex | undefined> {
  try {
    const doc = await getManifest(client, repository, referrersTag(digest), signal);
    return doc.kind === 'index' ? doc.index : undefined; // not an index: the spec says "no referrers"
  } catch (e) {
    if (e instanceof LazyImageError && (e.code === 'NOT_FOUND' || e.code === 'INVALID_FORMAT')) return undefined;
    throw e;
  }
}

/**
 * Adds a referrer to the subject's fallback index (for registries without the API). Read, add,
 * write: two pushers racing can lose an entry, which the spec accepts; re-pushing repairs it.
 */
export async function addFallbackReferrer(client: RegistryClient, repository: string, subject: string, referrer: Descriptor, signal?: AbortSignal): Promise<void> {
  const current = await fallbackIndex(client, repository, subject, signal);
  const manifests = (current?.manifests ?? []).filter((d) => d.digest !== referrer.digest);
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...manifests, referrer] };
  await putManifest(client, repository, Buffer.from(JSON.stringify(index)), MediaType.OciIndex, referrersTag(subject), signal);
}

function filterType(list: Descriptor[], artifactType: string | undefined): Descriptor[] {
  return artifactType === undefined ? list : list.filter((d) => d.artifactType === artifactType);
}
