// A repository of a registry as an ImageStore.
import type { Readable } from 'node:stream';
import { isDigest, type CallOptions, type Descriptor, type Digest, type ImageStore, type ManifestDocument, type NamePage, type PageOptions, type PutBlobOptions, type PutBlobResult } from '../oci/index.js';
import { getBlob, readBlobRange, statBlob } from './blobs.js';
import type { RegistryClient } from './client.js';
import { listTags } from './listing.js';
import { deleteTag, getManifest, putManifest, resolveManifest } from './manifests.js';
import { addFallbackReferrer, listReferrers } from './referrers.js';
import { uploadBlob } from './upload.js';

export class RegistryStore implements ImageStore {
  readonly kind = 'registry' as const;
  readonly name: string;
  readonly registry: string;

  constructor(readonly client: RegistryClient, readonly repository: string) {
    this.registry = client.registry;
    this.name = `${client.registry}/${repository}`;
  }

  resolve(tagOrDigest = 'latest', options: CallOptions = {}): Promise<Descriptor> {
    return resolveManifest(this.client, this.repository, tagOrDigest, options.signal);
  }

  getManifest(descriptor: Descriptor | Digest, options: CallOptions = {}): Promise<ManifestDocument> {
    if (typeof descriptor === 'string') return getManifest(this.client, this.repository, descriptor, options.signal);
    return getManifest(this.client, this.repository, descriptor.digest, options.signal, descriptor);
  }

  async putManifest(bytes: Buffer, mediaType: string, tag?: string, options: CallOptions = {}): Promise<Descriptor> {
    const { descriptor, subjectHandled } = await putManifest(this.client, this.repository, bytes, mediaType, tag, options.signal);
    const body = JSON.parse(bytes.toString('utf8')) as { subject?: Descriptor; artifactType?: string; annotations?: Record<string, string>; config?: Descriptor };
    if (body.subject && !subjectHandled && isDigest(body.subject.digest)) {
      const artifactType = body.artifactType ?? body.config?.mediaType;
      await addFallbackReferrer(this.client, this.repository, body.subject.digest, {
        ...descriptor,
        ...(artifactType ? { artifactType } : {}),
        ...(body.annotations ? { annotations: body.annotations } : {}),
      }, options.signal);
    }
    return descriptor;
  }

  deleteTag(tag: string, options: CallOptions = {}): Promise<void> {
    return deleteTag(this.client, this.repository, tag, options.signal);
  }

  getBlob(descriptor: Descriptor, options: CallOptions = {}): Promise<Readable> {
    return getBlob(this.client, this.repository, descriptor, options.signal);
  }

  readBlobRange(descriptor: Descriptor, offset: number, length: number, options: CallOptions = {}): Promise<Buffer> {
    return readBlobRange(this.client, this.repository, descriptor, offset, length, options.signal);
  }

  async hasBlob(descriptor: Descriptor, options: CallOptions = {}): Promise<boolean> {
    return (await statBlob(this.client, this.repository, descriptor.digest, options.signal)) === descriptor.size;
  }

  async putBlob(descriptor: Descriptor, open: () => Promise<Readable>, options: PutBlobOptions = {}): Promise<PutBlobResult> {
    if (await this.hasBlob(descriptor, options)) return 'existed';
    const mountFrom = options.mountFrom !== undefined && options.mountFrom !== this.repository ? options.mountFrom : undefined;
    return uploadBlob(this.client, this.repository, descriptor, open, {
      ...(mountFrom ? { mountFrom } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  listTags(options: PageOptions = {}): AsyncIterable<NamePage> {
    return listTags(this.client, this.repository, options);
  }

  referrers(digest: Digest, artifactType?: string, options: CallOptions = {}): Promise<Descriptor[]> {
    return listReferrers(this.client, this.repository, digest, artifactType, options.signal);
  }
}
