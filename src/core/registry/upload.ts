// Blob upload: cross-repository mount when possible, one PUT for small blobs, PATCH chunks for
// large ones. The content is verified while it streams, so a wrong source never gets committed.
import type { Readable } from 'node:stream';
import { FormatError, LazyImageError } from '../errors.js';
import { VerifyingStream, type Descriptor } from '../oci/index.js';
import { repositoryScope, type RegistryClient } from './client.js';
import { responseError } from './responseError.js';
import { header, type HttpResponse } from './transport.js';

export interface UploadOptions {
  /** Another repository of this registry that has the blob: ask the registry to link it. */
  mountFrom?: string;
  /** Bytes sent so far; from 0 again when the upload restarts. */
  onProgress?: (written: number) => void;
  signal?: AbortSignal;
}

interface UploadContext {
  client: RegistryClient;
  repository: string;
  descriptor: Descriptor;
  name: string;
  action: string;
  scopes: string[];
  options: UploadOptions;
}

export async function uploadBlob(client: RegistryClient, repository: string, descriptor: Descriptor, open: () => Promise<Readable>, options: UploadOptions = {}): Promise<'mounted' | 'uploaded'> {
  const name = `${client.registry}/${repository}@${descriptor.digest}`;
  const ctx: UploadContext = {
    client, repository, descriptor, name, options,
    action: `Cannot push blob ${name}`,
    scopes: [repositoryScope(repository, 'pull,push'), ...(options.mountFrom ? [repositoryScope(options.mountFrom, 'pull')] : [])],
  };
  let location = await startUpload(ctx, options.mountFrom);
  for (let attempt = 0; ; attempt++) {
    if (location === undefined) return 'mounted';
    try {
      await sendContent(ctx, location, await open());
      return 'uploaded';
    } catch (e) {
      await cancelUpload(ctx, location);
      const retry = e instanceof LazyImageError && e.temporary && attempt < client.options.retries;
      if (!retry) throw e;
      location = await startUpload(ctx, undefined);
    }
  }
}

/** POST a new upload session; undefined means the registry mounted the blob instead. */
async function startUpload(ctx: UploadContext, mountFrom: string | undefined): Promise<URL | undefined> {
  const query = mountFrom ? `?mount=${encodeURIComponent(ctx.descriptor.digest)}&from=${encodeURIComponent(mountFrom)}` : '';
  const res = await ctx.client.request({
    method: 'POST',
    path: `/v2/${ctx.repository}/blobs/uploads/${query}`,
    scopes: ctx.scopes,
    idempotent: true, // an abandoned session is harmless; the registry expires it
    ...(ctx.options.signal ? { signal: ctx.options.signal } : {}),
  });
  if (res.status === 201 && mountFrom) {
    await res.body.dump();
    return undefined;
  }
  if (res.status !== 202) throw await responseError(res, 'POST', ctx.action, ctx.name);
  await res.body.dump();
  return nextLocation(ctx, res);
}

async function sendContent(ctx: UploadContext, location: URL, source: Readable): Promise<void> {
  const { client, descriptor, options } = ctx;
  const verified = new VerifyingStream(descriptor, ctx.action);
  source.on('error', (e) => verified.destroy(e));
  source.pipe(verified);
  const signal = options.signal ? { signal: options.signal } : {};

  if (descriptor.size <= client.options.monolithicUploadMax) {
    const body = await collect(verified, options.onProgress);
    const res = await client.request({ method: 'PUT', path: withDigest(location, descriptor.digest), scopes: ctx.scopes, headers: { 'content-type': 'application/octet-stream' }, body, idempotent: false, ...signal });
    return finish(ctx, res);
  }
  let offset = 0;
  for await (const chunk of chunks(verified, client.options.chunkSize)) {
    const res = await client.request({
      method: 'PATCH',
      path: location,
      scopes: ctx.scopes,
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.length - 1}` },
      body: chunk,
      idempotent: false,
      ...signal,
    });
    if (res.status !== 202) throw await responseError(res, 'PATCH', ctx.action, ctx.name);
    await res.body.dump();
    const range = header(res, 'range');
    if (range && range !== `0-${offset + chunk.length - 1}` && range !== `bytes=0-${offset + chunk.length - 1}`) {
      throw new LazyImageError('REGISTRY', `${ctx.action}: after ${offset + chunk.length} bytes the registry reports range ${range}`, { ref: ctx.name, temporary: true });
    }
    location = nextLocation(ctx, res);
    offset += chunk.length;
    options.onProgress?.(offset);
  }
  const res = await client.request({ method: 'PUT', path: withDigest(location, descriptor.digest), scopes: ctx.scopes, idempotent: false, ...signal });
  return finish(ctx, res);
}

async function finish(ctx: UploadContext, res: HttpResponse): Promise<void> {
  if (res.status !== 201) throw await responseError(res, 'PUT', ctx.action, ctx.name);
  await res.body.dump();
  const stored = header(res, 'docker-content-digest');
  if (stored && stored !== ctx.descriptor.digest) {
    throw new FormatError('DIGEST_MISMATCH', `${ctx.action}: the registry stored ${stored}`, { format: 'blob', digest: ctx.descriptor.digest, ref: ctx.name });
  }
}

/** Best effort: tell the registry to drop an upload session we abandon. */
async function cancelUpload(ctx: UploadContext, location: URL): Promise<void> {
  try {
    const res = await ctx.client.request({ method: 'DELETE', path: location, scopes: ctx.scopes, idempotent: false });
    await res.body.dump();
  } catch {
    // The registry expires abandoned sessions on its own.
  }
}

function nextLocation(ctx: UploadContext, res: HttpResponse): URL {
  const value = header(res, 'location');
  if (!value) throw new LazyImageError('REGISTRY', `${ctx.action}: the registry sent no upload Location`, { ref: ctx.name });
  const url = new URL(value, res.url);
  if (url.origin !== res.url.origin) {
    // Uploads to another host would carry our registry token there; distribution never does this.
    throw new LazyImageError('REGISTRY', `${ctx.action}: the upload location points to another host (${url.origin}), refused`, { ref: ctx.name });
  }
  return url;
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location.href);
  url.searchParams.set('digest', digest);
  return url;
}

async function collect(stream: Readable, onProgress?: (written: number) => void): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    parts.push(chunk as Buffer);
    onProgress?.((size += (chunk as Buffer).length));
  }
  return Buffer.concat(parts);
}

/** Re-cuts a stream into buffers of `size` bytes (the last may be shorter). */
async function* chunks(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const data of stream) {
    let chunk = data as Buffer;
    while (have + chunk.length >= size) {
      const take = size - have;
      parts.push(chunk.subarray(0, take));
      yield Buffer.concat(parts);
      chunk = chunk.subarray(take);
      parts = [];
      have = 0;
    }
    if (chunk.length) {
      parts.push(chunk);
      have += chunk.length;
    }
  }
  if (have) yield Buffer.concat(parts);
}
