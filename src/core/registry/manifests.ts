// Manifests: GET, HEAD and PUT by tag or digest, always checked against their digest.
import { FormatError, LazyImageError } from '../errors.js';
import { MAX_MANIFEST_BYTES } from '../limits.js';
import { isDigest, MANIFEST_ACCEPT, normalizeContentType, parseManifest, sha256, verifyBytes, type Descriptor, type ManifestDocument } from '../oci/index.js';
import { readBody } from './body.js';
import { repositoryScope, type RegistryClient } from './client.js';
import { responseError } from './responseError.js';
import { header } from './transport.js';

const ACCEPT = MANIFEST_ACCEPT.join(', ');

function ref(client: RegistryClient, repository: string, reference: string): string {
  return `${client.registry}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
}

/** Fetches a manifest or index by tag or digest. */
export async function getManifest(client: RegistryClient, repository: string, reference: string, signal?: AbortSignal, expected?: Descriptor): Promise<ManifestDocument> {
  const name = ref(client, repository, reference);
  const action = `Cannot read manifest of ${name}`;
  const res = await client.request({
    method: 'GET',
    path: `/v2/${repository}/manifests/${reference}`,
    scopes: [repositoryScope(repository, 'pull')],
    headers: { accept: ACCEPT },
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 200) throw await responseError(res, 'GET', action, name);
  const bytes = await readBody(res, MAX_MANIFEST_BYTES, action);
  if (isDigest(reference)) {
    verifyBytes(bytes, { digest: reference, ...(expected ? { size: expected.size } : {}) }, action);
  } else {
    const claimed = header(res, 'docker-content-digest');
    if (claimed?.startsWith('sha256:') && claimed !== sha256(bytes)) {
      throw new FormatError('DIGEST_MISMATCH', `${action}: the registry says ${claimed} but the content has digest ${sha256(bytes)}`, { format: 'manifest', digest: claimed, ref: name });
    }
  }
  const doc = parseManifest(bytes, expected?.mediaType ?? normalizeContentType(header(res, 'content-type')), `manifest of ${name}`);
  if (isDigest(reference)) doc.descriptor = { ...doc.descriptor, digest: reference };
  return doc;
}

/**
 * Resolves a tag or digest to a descriptor with a HEAD request, which registries do not count
 * against pull rate limits. Falls back to GET if the registry omits the digest header.
 */
export async function resolveManifest(client: RegistryClient, repository: string, reference: string, signal?: AbortSignal): Promise<Descriptor> {
  const name = ref(client, repository, reference);
  const res = await client.request({
    method: 'HEAD',
    path: `/v2/${repository}/manifests/${reference}`,
    scopes: [repositoryScope(repository, 'pull')],
    headers: { accept: ACCEPT },
    ...(signal ? { signal } : {}),
  });
  await res.body.dump();
  if (res.status === 404) throw new LazyImageError('NOT_FOUND', `Cannot resolve ${name}: manifest unknown`, { ref: name });
  if (res.status !== 200) throw await responseError(res, 'HEAD', `Cannot resolve ${name}`, name);
  const digest = header(res, 'docker-content-digest');
  const size = Number(header(res, 'content-length'));
  const mediaType = normalizeContentType(header(res, 'content-type'));
  if (digest && isDigest(digest) && Number.isSafeInteger(size) && size > 0 && mediaType && mediaType !== 'application/json') {
    if (isDigest(reference) && digest !== reference) {
      throw new FormatError('DIGEST_MISMATCH', `Cannot resolve ${name}: the registry answered with ${digest}`, { format: 'manifest', digest: reference, ref: name });
    }
    return { mediaType, digest, size };
  }
  return (await getManifest(client, repository, reference, signal)).descriptor;
}

export interface PutManifestResult {
  descriptor: Descriptor;
  /** The registry processed `subject` itself (it sent `OCI-Subject`): no fallback tag needed. */
  subjectHandled: boolean;
}

/** Stores a manifest under a tag, or under its own digest when `tag` is undefined. */
export async function putManifest(client: RegistryClient, repository: string, bytes: Buffer, mediaType: string, tag?: string, signal?: AbortSignal): Promise<PutManifestResult> {
  const digest = sha256(bytes);
  const reference = tag ?? digest;
  const name = ref(client, repository, reference);
  const res = await client.request({
    method: 'PUT',
    path: `/v2/${repository}/manifests/${reference}`,
    scopes: [repositoryScope(repository, 'pull,push')],
    headers: { 'content-type': mediaType },
    body: bytes,
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 201 && res.status !== 200) throw await responseError(res, 'PUT', `Cannot push manifest to ${name}`, name);
  await res.body.dump();
  const stored = header(res, 'docker-content-digest');
  if (stored && stored.startsWith('sha256:') && stored !== digest) {
    throw new FormatError('DIGEST_MISMATCH', `Cannot push manifest to ${name}: the registry stored ${stored}, we sent ${digest}`, { format: 'manifest', digest, ref: name });
  }
  return { descriptor: { mediaType, digest, size: bytes.length }, subjectHandled: header(res, 'oci-subject') !== undefined };
}

/**
 * Removes a tag (the distribution spec's DELETE of a manifest by tag), leaving the manifest and
 * any other tag on it. Registries that can only delete whole manifests (distribution 2.x answers
 * 400 DIGEST_INVALID), or have deletion turned off (405), refuse: UNSUPPORTED.
 */
export async function deleteTag(client: RegistryClient, repository: string, tag: string, signal?: AbortSignal): Promise<void> {
  const name = ref(client, repository, tag);
  const action = `Cannot delete tag ${name}`;
  const res = await client.request({ method: 'DELETE', path: `/v2/${repository}/manifests/${tag}`, scopes: [repositoryScope(repository, 'pull,push')], signal });
  if (res.status === 202 || res.status === 200) {
    await res.body.dump();
    return;
  }
  const error = await responseError(res, 'DELETE', action, name);
  if (res.status === 405 || (res.status === 400 && error.diagnostics.some((d) => d.code === 'DIGEST_INVALID' || d.code === 'UNSUPPORTED'))) {
    throw new LazyImageError('UNSUPPORTED', `${action}: this registry does not delete tags (HTTP ${res.status}); it can only delete whole manifests, or has deletion turned off`, { ref: name, cause: error });
  }
  throw error;
}
