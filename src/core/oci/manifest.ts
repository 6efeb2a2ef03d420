// Parsing and validation of manifests, indexes and configs: untrusted JSON in, typed documents out.
import { FormatError, LazyImageError } from '../errors.js';
import { MAX_MANIFEST_BYTES } from '../limits.js';
import { parseDigest, sha256 } from './digest.js';
import { MediaType, isIndexMediaType, isManifestMediaType } from './mediaTypes.js';
import type { Descriptor, ImageConfig, ImageIndex, ImageManifest, ManifestDocument, Platform } from './types.js';

class Checker {
  constructor(private readonly where: string, private readonly digest?: string) {}

  fail(path: string, problem: string): never {
    throw new FormatError('INVALID_FORMAT', `Invalid ${this.where}: ${path} ${problem}`, {
      format: 'manifest',
      ...(this.digest ? { digest: this.digest } : {}),
    });
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'must be an object');
    return value as Record<string, unknown>;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string' || value.length === 0) this.fail(path, 'must be a non-empty string');
    return value;
  }

  optionalString(value: unknown, path: string): void {
    if (value !== undefined && typeof value !== 'string') this.fail(path, 'must be a string');
  }

  stringMap(value: unknown, path: string): void {
    if (value === undefined) return;
    const map = this.object(value, path);
    for (const [k, v] of Object.entries(map)) if (typeof v !== 'string') this.fail(`${path}["${k}"]`, 'must be a string');
  }

  stringArray(value: unknown, path: string): void {
    if (value === undefined) return;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) this.fail(path, 'must be an array of strings');
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, 'must be an array');
    return value;
  }

  descriptor(value: unknown, path: string): Descriptor {
    const d = this.object(value, path);
    this.string(d.mediaType, `${path}.mediaType`);
    const digest = this.string(d.digest, `${path}.digest`);
    try {
      parseDigest(digest);
    } catch (e) {
      this.fail(`${path}.digest`, (e as Error).message);
    }
    if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) this.fail(`${path}.size`, 'must be a non-negative integer');
    this.stringMap(d.annotations, `${path}.annotations`);
    this.stringArray(d.urls, `${path}.urls`);
    this.optionalString(d.artifactType, `${path}.artifactType`);
    this.optionalString(d.data, `${path}.data`);
    if (d.platform !== undefined) this.platform(d.platform, `${path}.platform`);
    return d as unknown as Descriptor;
  }

  platform(value: unknown, path: string): Platform {
    const p = this.object(value, path);
    this.string(p.architecture, `${path}.architecture`);
    this.string(p.os, `${path}.os`);
    this.optionalString(p.variant, `${path}.variant`);
    this.optionalString(p['os.version'], `${path}.os.version`);
    this.stringArray(p['os.features'], `${path}.os.features`);
    this.stringArray(p.features, `${path}.features`);
    return p as unknown as Platform;
  }
}

function parseJson(bytes: Uint8Array, where: string, digest?: string): unknown {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new FormatError('INVALID_FORMAT', `Invalid ${where}: ${bytes.length} bytes is over the ${MAX_MANIFEST_BYTES}-byte limit`, {
      format: 'manifest',
      ...(digest ? { digest } : {}),
    });
  }
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new FormatError('INVALID_FORMAT', `Invalid ${where}: not JSON (${(e as Error).message})`, {
      format: 'manifest',
      ...(digest ? { digest } : {}),
    });
  }
}

/**
 * Parses a manifest or index. `contentType` is the media type the store reported (HTTP
 * Content-Type or the referring descriptor); it is only used when the document has no `mediaType`.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined, where: string): ManifestDocument {
  const digest = sha256(bytes);
  const c = new Checker(where, digest);
  const doc = c.object(parseJson(bytes, where, digest), 'document');
  const declared = doc.mediaType;
  if (declared !== undefined && typeof declared !== 'string') c.fail('mediaType', 'must be a string');
  const mediaType = (declared as string | undefined) ?? normalizeContentType(contentType);

  if (doc.schemaVersion === 1 || mediaType === MediaType.DockerSchema1 || mediaType === MediaType.DockerSchema1Signed) {
    throw new LazyImageError('UNSUPPORTED', `Cannot read ${where}: Docker schema 1 manifests are deprecated and not supported`);
  }
  if (doc.schemaVersion !== 2) c.fail('schemaVersion', 'must be 2');
  c.optionalString(doc.artifactType, 'artifactType');
  c.stringMap(doc.annotations, 'annotations');
  if (doc.subject !== undefined) c.descriptor(doc.subject, 'subject');

  const looksLikeIndex = Array.isArray(doc.manifests) && doc.config === undefined;
  const isIndex = isIndexMediaType(mediaType) || (mediaType === undefined && looksLikeIndex);
  const isManifest = isManifestMediaType(mediaType) || (mediaType === undefined && !looksLikeIndex);
  if (!isIndex && !isManifest) c.fail('mediaType', `"${String(mediaType)}" is not an image manifest or index`);

  const descriptor: Descriptor = { mediaType: mediaType ?? (isIndex ? MediaType.OciIndex : MediaType.OciManifest), digest, size: bytes.length };
  if (isIndex) {
    c.array(doc.manifests, 'manifests').forEach((m, i) => c.descriptor(m, `manifests[${i}]`));
    return { kind: 'index', descriptor, bytes, index: doc as unknown as ImageIndex };
  }
  c.descriptor(doc.config, 'config');
  c.array(doc.layers, 'layers').forEach((l, i) => c.descriptor(l, `layers[${i}]`));
  return { kind: 'manifest', descriptor, bytes, manifest: doc as unknown as ImageManifest };
}

/** Parses an image config enough to trust `rootfs.diff_ids` and the platform fields. */
export function parseImageConfig(bytes: Buffer, where: string): ImageConfig {
  const c = new Checker(where);
  const doc = c.object(parseJson(bytes, where), 'document');
  c.optionalString(doc.architecture, 'architecture');
  c.optionalString(doc.os, 'os');
  const rootfs = c.object(doc.rootfs, 'rootfs');
  c.array(rootfs.diff_ids, 'rootfs.diff_ids').forEach((d, i) => {
    try {
      parseDigest(c.string(d, `rootfs.diff_ids[${i}]`));
    } catch (e) {
      if (e instanceof FormatError) throw e;
      c.fail(`rootfs.diff_ids[${i}]`, (e as Error).message);
    }
  });
  return doc as unknown as ImageConfig;
}

/** `application/json; charset=utf-8` -> `application/json`. */
export function normalizeContentType(value: string | undefined): string | undefined {
  const mt = value?.split(';')[0]?.trim().toLowerCase();
  return mt ? mt : undefined;
}
