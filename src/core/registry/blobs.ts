// Blob reads: whole blobs as verified streams, byte ranges with `Range`, and existence checks.
import type { Readable } from 'node:stream';
import { FormatError, LazyImageError } from '../errors.js';
import { checkRange, VerifyingStream, type Descriptor } from '../oci/index.js';
import { readBody } from './body.js';
import { repositoryScope, type RegistryClient } from './client.js';
import { responseError } from './responseError.js';
import { header } from './transport.js';

function blobRef(client: RegistryClient, repository: string, digest: string): string {
  return `${client.registry}/${repository}@${digest}`;
}

/** The blob as a stream that errors (DIGEST_MISMATCH) rather than end on wrong content. */
export async function getBlob(client: RegistryClient, repository: string, descriptor: Descriptor, signal?: AbortSignal): Promise<Readable> {
  const name = blobRef(client, repository, descriptor.digest);
  const action = `Cannot read blob ${name}`;
  const res = await client.request({
    method: 'GET',
    path: `/v2/${repository}/blobs/${descriptor.digest}`,
    scopes: [repositoryScope(repository, 'pull')],
    ...(signal ? { signal } : {}),
  });
  if (res.status !== 200) throw await responseError(res, 'GET', action, name);
  const verify = new VerifyingStream(descriptor, action);
  res.body.on('error', (e) => verify.destroy(e));
  // A reader that stops early (an eStargz layer's TOC after the tar's end is never read) destroys
  // the stream; the body goes with it, or its connection stays busy and closing the client waits.
  verify.on('close', () => res.body.destroy());
  return res.body.pipe(verify);
}

/**
 * Exactly `length` bytes from `offset`, with one `Range` request. The registry must answer 206
 * with a `Content-Range` for that very range; anything else is an error, never silently the
 * whole blob.
 */
export async function readBlobRange(client: RegistryClient, repository: string, descriptor: Descriptor, offset: number, length: number, signal?: AbortSignal): Promise<Buffer> {
  const name = blobRef(client, repository, descriptor.digest);
  const last = offset + length - 1;
  const action = `Cannot read bytes ${offset}-${last} of blob ${name}`;
  checkRange(descriptor, offset, length, action);
  const res = await client.request({
    method: 'GET',
    path: `/v2/${repository}/blobs/${descriptor.digest}`,
    scopes: [repositoryScope(repository, 'pull')],
    headers: { range: `bytes=${offset}-${last}` },
    ...(signal ? { signal } : {}),
  });
  if (res.status === 200) {
    res.body.destroy();
    throw new LazyImageError('UNSUPPORTED', `${action}: the registry ignored the Range header and sent the whole blob`, { ref: name });
  }
  if (res.status !== 206) throw await responseError(res, 'GET', action, name);
  const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res, 'content-range') ?? '');
  if (!range || Number(range[1]) !== offset || Number(range[2]) !== last) {
    res.body.destroy();
    throw new FormatError('INVALID_FORMAT', `${action}: the registry answered with Content-Range "${header(res, 'content-range') ?? ''}"`, { format: 'http', digest: descriptor.digest, offset });
  }
  const bytes = await readBody(res, length, action);
  if (bytes.length !== length) {
    throw new FormatError('INVALID_FORMAT', `${action}: got ${bytes.length} bytes`, { format: 'http', digest: descriptor.digest, offset });
  }
  return bytes;
}

/** HEAD: the blob's size if the repository has it, undefined if not. */
export async function statBlob(client: RegistryClient, repository: string, digest: string, signal?: AbortSignal): Promise<number | undefined> {
  const name = blobRef(client, repository, digest);
  const res = await client.request({
    method: 'HEAD',
    path: `/v2/${repository}/blobs/${digest}`,
    scopes: [repositoryScope(repository, 'pull')],
    ...(signal ? { signal } : {}),
  });
  await res.body.dump();
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw await responseError(res, 'HEAD', `Cannot check blob ${name}`, name);
  const size = Number(header(res, 'content-length'));
  return Number.isSafeInteger(size) ? size : undefined;
}
