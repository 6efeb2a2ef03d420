// Builders for OCI documents: blobs with their descriptors, manifests, indexes.
import { sha256 } from '../../../src/core/oci/digest.js';
import { MediaType } from '../../../src/core/oci/mediaTypes.js';
import type { Descriptor } from '../../../src/core/oci/types.js';

/** A syntactically valid digest made of one repeated hex character. */
export function fakeDigest(c = 'a', algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${c.repeat(algorithm === 'sha256' ? 64 : 128)}`;
}

export interface Blob {
  bytes: Buffer;
  descriptor: Descriptor;
}

export function blob(content: Buffer | string, mediaType: string = MediaType.OciLayer): Blob {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return { bytes, descriptor: { mediaType, digest: sha256(bytes), size: bytes.length } };
}

/** A minimal image config blob. */
export function configBlob(diffIds: string[] = [], platform = { architecture: 'amd64', os: 'linux' }): Blob {
  return blob(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: diffIds } }), MediaType.OciConfig);
}

export interface ManifestParts {
  config: Descriptor;
  layers: Descriptor[];
  mediaType?: string | null;
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A manifest document as bytes; `mediaType: null` leaves the field out. */
export function manifestBytes(parts: ManifestParts): Buffer {
  const { mediaType = MediaType.OciManifest, ...rest } = parts;
  return Buffer.from(JSON.stringify({ schemaVersion: 2, ...(mediaType === null ? {} : { mediaType }), ...rest }));
}

export function indexBytes(manifests: Descriptor[], mediaType: string | null = MediaType.OciIndex, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ schemaVersion: 2, ...(mediaType === null ? {} : { mediaType }), manifests, ...extra }));
}

/** Descriptor of a document's bytes. */
export function descriptorOf(bytes: Buffer, mediaType: string): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length };
}
