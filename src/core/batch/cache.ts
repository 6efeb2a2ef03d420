// The batch's layer cache: an OCI store (a registry repository, or an OCI layout folder) holding one
// small artifact per result, tagged `<kind>-<sha256 of the canonical key>`, so a lookup is one
// manifest fetch by tag, works on any registry (no referrers API needed) and survives runs. The
// artifact lists the result blob (a converted layer or a zTOC) and describes it in annotations.
// Blob first, tag last: a record never names a missing blob. Records are read as untrusted input:
// one that does not check out is a miss, with a warning, and the layer is built again.
import { Readable } from 'node:stream';
import { describeError, LazyImageError, throwIfAborted } from '../errors.js';
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION } from '../estargz/index.js';
import { isContentProblem } from '../image/index.js';
import { copyBlob, type CachedEstargz, type CachedZtoc, type ConvertedLayerCache, type EstargzKey, type ZtocCache } from '../jobs/index.js';
import { checkEstargzLayer } from '../lazy/index.js';
import { MAX_ZTOC_BYTES } from '../limits.js';
import { blobAccess, MediaType, readBlob, sha256, type CallOptions, type Descriptor, type ImageManifest, type ImageStore, type PutBlobResult } from '../oci/index.js';
import { decodeZtoc, ZTOC_MEDIA_TYPE } from '../soci/index.js';

/** Part of every key: a new version of a builder's output (or of this format) misses old records. */
export const CACHE_FORMAT = 'lazyimg-batch-cache/1 estargz/1 ztoc/soci-0.16';

export type RecordKind = 'estargz' | 'ztoc' | 'item';

const EMPTY = Buffer.from('{}');
const EMPTY_DESCRIPTOR: Descriptor = { mediaType: MediaType.OciEmpty, digest: sha256(EMPTY), size: EMPTY.length };
const A = 'org.lazyimg.batch.';
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** JSON with object keys sorted at every level: the same key always has the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The canonical key text of a record, and the tag it is found by. */
export function recordKey(kind: RecordKind, fields: Record<string, unknown>): { text: string; tag: string } {
  const text = canonicalJson({ format: CACHE_FORMAT, kind, ...fields });
  return { text, tag: `${kind}-${sha256(text).slice('sha256:'.length)}` };
}

export function artifactType(kind: RecordKind): string {
  return `application/vnd.lazyimg.batch.${kind}.v1`;
}

/** What an item record says: the item's result, at its destination. */
export interface ItemRecord {
  sourceDigest: string;
  destination: string;
  digest: string;
  /** soci-v1: the SOCI index manifests attached to the image. */
  sociIndexes: string[];
}

/** Told of what the cache does for the item at hand. */
export interface CacheListener {
  /** A layer built by a job was recorded (its blob and tag are in the cache). */
  built(kind: 'estargz' | 'ztoc', source: Descriptor, result: Descriptor, seconds: number): void;
  /** A cached result was put in the destination; `how` says whether bytes moved. */
  reused(kind: 'estargz' | 'ztoc', source: Descriptor, result: Descriptor, how: PutBlobResult): void;
  warn(message: string): void;
}

export class BatchCache {
  private emptyStored: Promise<unknown> | undefined;

  constructor(readonly store: ImageStore) {}

  /** Hooks for one item's jobs, reporting to `listener`. */
  hooks(listener: CacheListener): { estargz: ConvertedLayerCache; ztoc: ZtocCache } {
    return {
      estargz: {
        reuse: (source, key, destination, options) => this.reuseEstargz(source, key, destination, listener, options),
        record: async (source, key, destination, built, options) => {
          const result: Descriptor = { mediaType: MediaType.OciLayerGzip, digest: built.digest, size: built.size };
          await copyBlob(destination, this.store, result, options);
          await this.put('estargz', estargzKey(source, key), result, {
            [`${A}source`]: source.digest, [`${A}diff-id`]: built.diffId, [`${A}toc-digest`]: built.tocDigest,
            [`${A}uncompressed-size`]: String(built.uncompressedSize), [`${A}missing`]: JSON.stringify(built.missing),
          }, options);
          listener.built('estargz', source, result, built.seconds);
        },
      },
      ztoc: {
        reuse: (layer, spanSize, destination, options) => this.reuseZtoc(layer, spanSize, destination, listener, options),
        record: async (layer, spanSize, built, options) => {
          const result: Descriptor = { mediaType: ZTOC_MEDIA_TYPE, digest: built.digest, size: built.size };
          await this.store.putBlob(result, async () => Readable.from([built.bytes]), options);
          await this.put('ztoc', ztocKey(layer, spanSize), result, {
            [`${A}source`]: layer.digest, [`${A}span-size`]: String(spanSize), [`${A}spans`]: String(built.spans), [`${A}files`]: String(built.files),
          }, options);
          listener.built('ztoc', layer, result, built.seconds);
        },
      },
    };
  }

  /** The record of an item done before, if there is one to trust. */
  async item(fields: Record<string, unknown>, warn: (m: string) => void, options: CallOptions = {}): Promise<ItemRecord | undefined> {
    const found = await this.get('item', fields, warn, options);
    if (!found) return undefined;
    const { annotations: a, where } = found;
    const sociIndexes = a[`${A}soci-indexes`] ? a[`${A}soci-indexes`]!.split(',') : [];
    const record = { sourceDigest: a[`${A}source`] ?? '', destination: a[`${A}destination`] ?? '', digest: a[`${A}digest`] ?? '', sociIndexes };
    if (!DIGEST_RE.test(record.sourceDigest) || !DIGEST_RE.test(record.digest) || !record.destination || !sociIndexes.every((d) => DIGEST_RE.test(d))) {
      warn(`${where}: its annotations do not describe an item; doing the item again`);
      return undefined;
    }
    return record;
  }

  async putItem(fields: Record<string, unknown>, record: ItemRecord, options: CallOptions = {}): Promise<void> {
    await this.put('item', fields, EMPTY_DESCRIPTOR, {
      [`${A}source`]: record.sourceDigest, [`${A}destination`]: record.destination, [`${A}digest`]: record.digest,
      ...(record.sociIndexes.length ? { [`${A}soci-indexes`]: record.sociIndexes.join(',') } : {}),
    }, options);
  }

  private async reuseEstargz(source: Descriptor, key: EstargzKey, destination: ImageStore, listener: CacheListener, options: CallOptions): Promise<CachedEstargz | undefined> {
    const found = await this.get('estargz', estargzKey(source, key), listener.warn, options);
    if (!found) return undefined;
    const { annotations: a, result, where } = found;
    const uncompressedSize = Number(a[`${A}uncompressed-size`]);
    const missing = parseStringList(a[`${A}missing`]);
    if (result.mediaType !== MediaType.OciLayerGzip || !DIGEST_RE.test(a[`${A}diff-id`] ?? '') || !DIGEST_RE.test(a[`${A}toc-digest`] ?? '')
      || !/^\d+$/.test(a[`${A}uncompressed-size`] ?? '') || !Number.isSafeInteger(uncompressedSize) || !missing) {
      listener.warn(`${where}: its annotations do not describe an eStargz layer; converting the layer again`);
      return undefined;
    }
    // A record could name some other blob: its footer and TOC must be there, with the TOC digest it claims.
    const claimed = { ...result, annotations: { [TOC_DIGEST_ANNOTATION]: a[`${A}toc-digest`]!, [UNCOMPRESSED_SIZE_ANNOTATION]: String(uncompressedSize) } };
    const check = await this.checked(where, listener, options, async () => {
      const { lazy, problems } = await checkEstargzLayer(blobAccess(this.store, claimed, options), claimed, where, { quick: true, ...options });
      if (!lazy || problems.length) throw new LazyImageError('INVALID_FORMAT', `its layer is no eStargz layer with that TOC: ${problems.join('; ')}`);
      return true;
    });
    if (!check) return undefined;
    const how = await this.bring(result, destination, where, listener, options);
    if (!how) return undefined;
    listener.reused('estargz', source, result, how);
    return { digest: result.digest, size: result.size, diffId: a[`${A}diff-id`]!, tocDigest: a[`${A}toc-digest`]!, uncompressedSize, missing };
  }

  private async reuseZtoc(layer: Descriptor, spanSize: number, destination: ImageStore, listener: CacheListener, options: CallOptions & { bytes?: boolean }): Promise<CachedZtoc | undefined> {
    const found = await this.get('ztoc', ztocKey(layer, spanSize), listener.warn, options);
    if (!found) return undefined;
    const { annotations: a, result, where } = found;
    const spans = count(a[`${A}spans`]);
    const files = count(a[`${A}files`]);
    if (result.mediaType !== ZTOC_MEDIA_TYPE || spans === undefined || files === undefined || result.size > MAX_ZTOC_BYTES) {
      listener.warn(`${where}: its annotations do not describe a zTOC; indexing the layer again`);
      return undefined;
    }
    // Small enough to read: it must decode, and describe a layer of this size in this many spans.
    const bytes = await this.checked(where, listener, options, async () => {
      const read = await readBlob(this.store, result, MAX_ZTOC_BYTES, options);
      const ztoc = decodeZtoc(read, `${where}: its zTOC`);
      if (ztoc.compressedArchiveSize !== layer.size || ztoc.spanDigests.length !== spans) {
        throw new LazyImageError('INVALID_FORMAT', `its zTOC describes a ${ztoc.compressedArchiveSize}-byte layer in ${ztoc.spanDigests.length} spans, not this ${layer.size}-byte layer in ${spans}`);
      }
      return read;
    });
    if (!bytes) return undefined;
    const how = await this.bring(result, destination, where, listener, options);
    if (!how) return undefined;
    listener.reused('ztoc', layer, result, how);
    return { digest: result.digest, size: result.size, spans, files, ...(options.bytes ? { bytes } : {}) };
  }

  /** `work`'s value, or undefined (and a warning) when what the cache holds does not check out. */
  private async checked<T>(where: string, listener: CacheListener, options: CallOptions, work: () => Promise<T>): Promise<T | undefined> {
    try {
      throwIfAborted(options.signal);
      return await work();
    } catch (e) {
      if (!isContentProblem(e)) throw e;
      listener.warn(`${where}: ${describeError(e)}; building the result again`);
      return undefined;
    }
  }

  /** Puts a cached blob in the destination; a blob the cache lost or holds wrong is a miss. */
  private async bring(result: Descriptor, destination: ImageStore, where: string, listener: CacheListener, options: CallOptions): Promise<PutBlobResult | undefined> {
    return this.checked(where, listener, options, async () => {
      if (!(await this.store.hasBlob(result, options))) throw new LazyImageError('NOT_FOUND', `blob ${result.digest} is missing`);
      return copyBlob(this.store, destination, result, options);
    });
  }

  /** The record at the key's tag: its annotations and result, checked against the key; a bad one is a miss. */
  private async get(kind: RecordKind, fields: Record<string, unknown>, warn: (m: string) => void, options: CallOptions): Promise<{ annotations: Record<string, string>; result: Descriptor; where: string } | undefined> {
    const { text, tag } = recordKey(kind, fields);
    const where = `cache record ${this.store.name}:${tag}`;
    let manifest: ImageManifest;
    try {
      const doc = await this.store.getManifest(await this.store.resolve(tag, options), options);
      if (doc.kind !== 'manifest') throw new LazyImageError('INVALID_FORMAT', 'it is an index, not a manifest');
      manifest = doc.manifest;
    } catch (e) {
      if (!isContentProblem(e)) throw e;
      if (e.code !== 'NOT_FOUND') warn(`${where} cannot be read (${describeError(e)}); ignoring it`);
      return undefined;
    }
    const annotations = manifest.annotations ?? {};
    const result = manifest.layers[0];
    if (manifest.artifactType !== artifactType(kind) || manifest.layers.length !== 1 || !result || !DIGEST_RE.test(result.digest) || annotations[`${A}key`] !== text) {
      warn(`${where} is not a ${kind} record for this key; ignoring it`);
      return undefined;
    }
    return { annotations, result, where };
  }

  private async put(kind: RecordKind, fields: Record<string, unknown>, result: Descriptor, annotations: Record<string, string>, options: CallOptions): Promise<void> {
    const { text, tag } = recordKey(kind, fields);
    this.emptyStored ??= this.store.putBlob(EMPTY_DESCRIPTOR, async () => Readable.from([EMPTY]), options);
    try {
      await this.emptyStored;
    } catch (e) {
      this.emptyStored = undefined;
      throw e;
    }
    const manifest: ImageManifest = {
      schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType: artifactType(kind), config: EMPTY_DESCRIPTOR,
      layers: [result], annotations: { [`${A}key`]: text, ...annotations },
    };
    await this.store.putManifest(Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest, tag, options);
  }
}

export function estargzKey(source: Descriptor, key: EstargzKey): Record<string, unknown> {
  return { source: source.digest, level: key.level, chunkSize: key.chunkSize, prioritized: key.prioritized };
}

/** zTOCs depend on the layer and the span size only: SOCI v1 and v2 share them. */
export function ztocKey(layer: Descriptor, spanSize: number): Record<string, unknown> {
  return { source: layer.digest, spanSize };
}

function count(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && /^\d{1,15}$/.test(value) && Number.isSafeInteger(n) ? n : undefined;
}

function parseStringList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  try {
    const list = JSON.parse(value) as unknown;
    return Array.isArray(list) && list.every((p) => typeof p === 'string') ? list : undefined;
  } catch {
    return undefined;
  }
}
