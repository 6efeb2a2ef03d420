// The one interface every operation reads and writes images through. A registry repository and an
// OCI image layout directory both implement it, so jobs never care where an image lives.
import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';
import type { Descriptor, ManifestDocument } from './types.js';

export interface CallOptions {
  signal?: AbortSignal;
}

/** Random access to one blob: a file, or a registry blob through Range requests. */
export interface BlobAccess {
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

export interface AdoptBlobOptions extends CallOptions {
  keep?: boolean;
  verified?: Promise<unknown>;
}

export interface PutBlobOptions extends CallOptions {
  /**
   * Repository in the same registry that already holds the blob, for a cross-repository mount.
   * Stores that cannot mount ignore it.
   */
  mountFrom?: string;
  /**
   * Bytes of the blob stored so far, for progress; starts from 0 again if the transfer is
   * retried. Called often: keep it cheap.
   */
  onProgress?: (written: number) => void;
}

/** How a blob got there: it was already, the registry linked it from another repository, or we sent it. */
export type PutBlobResult = 'existed' | 'mounted' | 'uploaded';

/** One page of a listing; `last` says whether asking for another page is worth it. */
export interface NamePage {
  names: string[];
  last: boolean;
}

export interface PageOptions extends CallOptions {
  /** Names asked for per page; a registry may send fewer or ignore it. */
  pageSize?: number;
  /** Start after this name (the registry API's `last`), e.g. to resume a listing that failed midway. */
  last?: string;
}

export interface ImageStore {
  readonly kind: 'registry' | 'oci-layout';
  /** What error messages name: `ghcr.io/org/app` or `oci:./images`. */
  readonly name: string;
  /** Registry and repository of registry stores; let a copy mount blobs within one registry. */
  readonly registry?: string;
  readonly repository?: string;

  /** Turns a tag or digest (or, for a store with one image, nothing) into the descriptor of the manifest or index it points at. */
  resolve(tagOrDigest: string | undefined, options?: CallOptions): Promise<Descriptor>;
  /** Fetches and validates a manifest or index; the bytes are checked against the digest. */
  getManifest(descriptor: Descriptor | Digest, options?: CallOptions): Promise<ManifestDocument>;
  /** Stores a manifest or index, tagging it when `tag` is given. Call after its blobs are in. */
  putManifest(bytes: Buffer, mediaType: string, tag?: string, options?: CallOptions): Promise<Descriptor>;
  /** Removes a tag; the manifest stays for other tags and indexes that use it. */
  deleteTag(tag: string, options?: CallOptions): Promise<void>;

  /** A stream of the blob that fails instead of ending if size or digest do not match. */
  getBlob(descriptor: Descriptor, options?: CallOptions): Promise<Readable>;
  /** Exactly `length` bytes of the blob from `offset`. */
  readBlobRange(descriptor: Descriptor, offset: number, length: number, options?: CallOptions): Promise<Buffer>;
  hasBlob(descriptor: Descriptor, options?: CallOptions): Promise<boolean>;
  /**
   * Stores a blob from the stream `open` returns, verifying size and digest. `open` is only called
   * if the blob is not already there (and may be called again on a retry).
   */
  putBlob(descriptor: Descriptor, open: () => Promise<Readable>, options?: PutBlobOptions): Promise<PutBlobResult>;
  /**
   * Takes over a local file the caller has just written and hashed (a converted layer), without
   * reading it again; the file is gone afterwards, unless `keep` asks for a copy (a kernel copy:
   * the bytes never pass through the process). With `verified`, the blob appears only once that
   * settles well: the caller is checking the file's digest meanwhile. Stores that cannot do
   * better than `putBlob` leave it out.
   */
  adoptBlobFile?(descriptor: Descriptor, file: string, options?: AdoptBlobOptions): Promise<PutBlobResult>;
  /** The file holding a blob, for stores on this machine's disk. */
  blobFile?(descriptor: Descriptor): Promise<string | undefined>;

  /** Pages of tags in name order, one page per iteration, fetched only as the caller asks. */
  listTags(options?: PageOptions): AsyncIterable<NamePage>;
  /**
   * The manifests a store lists at its top, tagged or not (an OCI layout's `index.json`). Stores
   * that list only tags (registries) leave it out.
   */
  listManifests?(options?: CallOptions): Promise<Descriptor[]>;
  /** Manifests whose `subject` is `digest`, optionally only those of one artifact type. */
  referrers(digest: Digest, artifactType?: string, options?: CallOptions): Promise<Descriptor[]>;
}

/** A blob of a store as random access, each read a Range request (or a file read). */
export function blobAccess(store: ImageStore, descriptor: Descriptor, options: CallOptions = {}): BlobAccess {
  return { size: descriptor.size, read: (offset, length) => store.readBlobRange(descriptor, offset, length, options) };
}
