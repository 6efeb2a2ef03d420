// `convert --format estargz`: every layer of an image (or of each platform of an index) becomes an
// eStargz blob with its TOC-digest and uncompressed-size annotations; the config gets the new
// diff IDs; manifests are written with OCI media types (Docker manifests cannot carry layer
// annotations). Layers shared between platforms are converted once. Nothing is tagged until every
// blob is stored, so a failed or cancelled conversion leaves no half image behind a tag.
import { mkdtemp, rm } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { buildEstargz, DEFAULT_CHUNK_SIZE, DEFAULT_GZIP_LEVEL, GzipPool, TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION, type BuiltLayer } from '../estargz/index.js';
import { pickPlatform } from '../image/index.js';
import { MAX_CONFIG_BYTES } from '../limits.js';
import {
  MediaType, parseImageConfig, readBlob, sha256,
  type Descriptor, type ImageIndex, type ImageManifest, type ImageStore, type IndexDocument, type ManifestDocument, type Platform,
} from '../oci/index.js';
import { forEachLimit } from '../pool.js';
import type { CachedEstargz, ConvertedLayerCache, EstargzKey } from './layerCache.js';
import { secondsSince, type ProgressSink } from './progress.js';

export interface ConvertOptions {
  level?: number;
  chunkSize?: number;
  /** Files to put first and prefetch, applied to every layer (like `ctr-remote --estargz-record-in`). */
  prioritized?: string[];
  /** Files to put first in each layer, by the source layer: a startup profile's own list per layer. Replaces `prioritized`. */
  prioritizedFor?: (layer: Descriptor) => string[];
  allPlatforms?: boolean;
  platform?: Platform;
  /** Converted layers kept across jobs: each is asked before a layer is built, and told of each one built. */
  cache?: ConvertedLayerCache;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export interface ConvertedLayer {
  source: string;
  digest: string;
  size: number;
  tocDigest: string;
  sourceSize: number;
  /**
   * Wall time from the start of reading the source layer to the eStargz blob being stored. Layers
   * run two at a time, so the times of a job overlap. Always set here; optional in the worker
   * protocol (since 1.7), as older workers do not send it.
   */
  seconds?: number;
  /** Set when the layer came from the cache, not built (`seconds` is then the time to get it). */
  reused?: true;
}

export interface ConvertResult {
  descriptor: Descriptor;
  layers: ConvertedLayer[];
  /** Prioritized paths found in no layer at all. */
  missing: string[];
}

const LAYERS_AT_ONCE = 2;
const LAYER_TYPES: ReadonlySet<string> = new Set([MediaType.OciLayer, MediaType.OciLayerGzip, MediaType.OciLayerZstd, MediaType.DockerLayerGzip]);

export async function convertImage(
  source: ImageStore, sourceRef: string | undefined, destination: ImageStore, destinationTag: string | undefined, options: ConvertOptions = {},
): Promise<ConvertResult> {
  const call = options.signal ? { signal: options.signal } : {};
  const root = await source.getManifest(await source.resolve(sourceRef, call), call);
  const converter = new Converter(source, destination, options);
  try {
    let descriptor: Descriptor;
    if (root.kind === 'index' && options.allPlatforms) {
      descriptor = await converter.index(root, destinationTag);
    } else {
      const image = root.kind === 'index' ? await pickPlatform(source, root, options.platform, 'Cannot convert', call) : root;
      descriptor = await converter.image(image, destinationTag);
    }
    return { descriptor, layers: await Promise.all(converter.done.values()), missing: [...converter.asked].filter((p) => !converter.found.has(p)) };
  } catch (e) {
    if (options.signal?.aborted) throw new LazyImageError('CANCELLED', 'Cancelled', { ref: source.name, cause: e });
    throw e;
  } finally {
    await converter.close();
  }
}

type Converted = ConvertedLayer & { diffId: string; annotations: Record<string, string> };

class Converter {
  /** By source digest: a layer shared by several platforms (or listed twice) is converted once. */
  readonly done = new Map<string, Promise<Converted>>();
  /** Prioritized paths asked for in some layer, and those some layer had. */
  readonly asked = new Set<string>();
  readonly found = new Set<string>();
  private workDir: Promise<string> | undefined;
  /** Compression threads shared by the job's layers, started with the first one. */
  private pool: GzipPool | undefined;
  private readonly call: { signal?: AbortSignal };

  constructor(private readonly source: ImageStore, private readonly destination: ImageStore, private readonly options: ConvertOptions) {
    this.call = options.signal ? { signal: options.signal } : {};
  }

  /** Converts every image of an index; attestations and other artifacts are left out (their subjects change). */
  async index(root: IndexDocument, tag: string | undefined): Promise<Descriptor> {
    const manifests: Descriptor[] = [];
    for (const child of root.index.manifests) {
      if (child.platform?.os === 'unknown' || child.artifactType !== undefined) continue;
      const doc = await this.source.getManifest(child, this.call);
      if (doc.kind !== 'manifest') throw new LazyImageError('UNSUPPORTED', `Cannot convert ${this.source.name}: nested index ${child.digest}`, { ref: this.source.name });
      const converted = await this.image(doc, undefined);
      manifests.push({ ...converted, ...(child.platform ? { platform: child.platform } : {}), ...(child.annotations ? { annotations: child.annotations } : {}) });
    }
    if (manifests.length === 0) throw new LazyImageError('NOT_FOUND', `Cannot convert ${this.source.name}: its index lists no images`, { ref: this.source.name });
    const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests, ...(root.index.annotations ? { annotations: root.index.annotations } : {}) };
    return this.destination.putManifest(Buffer.from(JSON.stringify(index)), MediaType.OciIndex, tag, this.call);
  }

  async image(doc: ManifestDocument, tag: string | undefined): Promise<Descriptor> {
    if (doc.kind !== 'manifest') throw new LazyImageError('UNSUPPORTED', `Cannot convert ${this.source.name}: not an image manifest`, { ref: this.source.name });
    const { manifest } = doc;
    const where = this.source.name;
    for (const l of manifest.layers) {
      if (!LAYER_TYPES.has(l.mediaType)) throw new LazyImageError('UNSUPPORTED', `Cannot convert ${where}: layer ${l.digest} has media type ${l.mediaType}, not a tar layer`, { ref: where });
    }
    const configIn = await readBlob(this.source, manifest.config, MAX_CONFIG_BYTES, this.call);
    const config = parseImageConfig(configIn, `config of ${where}`);
    if (config.rootfs.diff_ids.length !== manifest.layers.length) {
      throw new LazyImageError('INVALID_FORMAT', `Cannot convert ${where}: the config lists ${config.rootfs.diff_ids.length} diff IDs for ${manifest.layers.length} layers`, { ref: where });
    }
    this.options.onProgress?.({ kind: 'plan', items: manifest.layers.map((l, i) => ({ item: l.digest, label: `layer ${i + 1}/${manifest.layers.length}`, total: l.size })) });
    const layers: Descriptor[] = [];
    // Two layers at a time: one's serial steps (reading, storing) overlap the other's compression.
    const converted: Array<Converted> = [];
    await forEachLimit(manifest.layers, LAYERS_AT_ONCE, async (layer, i) => {
      converted[i] = await this.layer(layer, `layer ${i + 1}/${manifest.layers.length}`);
    });
    manifest.layers.forEach((layer, i) => {
      const c = converted[i]!;
      layers.push({ mediaType: MediaType.OciLayerGzip, digest: c.digest, size: c.size, annotations: { ...layer.annotations, ...c.annotations } });
    });
    // Only diff_ids change; the rest of the config keeps its keys and values.
    const rawConfig = JSON.parse(configIn.toString('utf8')) as Record<string, unknown>;
    rawConfig.rootfs = { ...(rawConfig.rootfs as object), diff_ids: converted.map((c) => c.diffId) };
    const configBytes = Buffer.from(JSON.stringify(rawConfig));
    const configDescriptor: Descriptor = { mediaType: MediaType.OciConfig, digest: sha256(configBytes), size: configBytes.length };
    await this.destination.putBlob(configDescriptor, async () => Readable.from([configBytes]), this.call);
    const out: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: configDescriptor,
      layers,
      ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
    };
    return this.destination.putManifest(Buffer.from(JSON.stringify(out)), MediaType.OciManifest, tag, this.call);
  }

  private layer(layer: Descriptor, label: string): Promise<Converted> {
    let converted = this.done.get(layer.digest);
    if (!converted) {
      converted = this.convertLayer(layer, label);
      this.done.set(layer.digest, converted);
    }
    return converted;
  }

  private async convertLayer(layer: Descriptor, label: string): Promise<Converted> {
    throwIfAborted(this.options.signal, this.source.name);
    const dir = await mkdtemp(join(await this.work(), 'layer-'));
    const where = `${this.source.name} ${label} (${layer.digest})`;
    const report = (done: number, outcome?: 'uploaded' | 'existed'): void =>
      this.options.onProgress?.({ kind: 'item', item: layer.digest, label, done, total: layer.size, ...(outcome ? { outcome } : {}) });
    const prioritized = this.options.prioritizedFor?.(layer) ?? this.options.prioritized ?? [];
    for (const p of prioritized) this.asked.add(p);
    const started = performance.now();
    const { cache } = this.options;
    const key: EstargzKey = { level: this.options.level ?? DEFAULT_GZIP_LEVEL, chunkSize: this.options.chunkSize ?? DEFAULT_CHUNK_SIZE, prioritized };
    const cached = cache ? await cache.reuse(layer, key, this.destination, this.call) : undefined;
    if (cached) {
      this.noteFound(prioritized, cached.missing);
      report(layer.size, 'existed');
      return { ...converted(layer, cached, started), reused: true };
    }
    try {
      const built: BuiltLayer = await buildEstargz(() => this.source.getBlob(layer, this.call), dir, where, {
        ...(this.options.level !== undefined ? { level: this.options.level } : {}),
        ...(this.options.chunkSize !== undefined ? { chunkSize: this.options.chunkSize } : {}),
        prioritized,
        pool: (this.pool ??= new GzipPool()),
        sourceSize: layer.size,
        ...this.call,
        onProgress: (p) => report(p.phase === 'read' ? Math.min(p.done, layer.size) : layer.size),
      });
      this.noteFound(prioritized, built.missing);
      const descriptor: Descriptor = { mediaType: MediaType.OciLayerGzip, digest: built.digest, size: built.size };
      if (this.destination.adoptBlobFile) await this.destination.adoptBlobFile(descriptor, built.file, this.call);
      else await this.destination.putBlob(descriptor, async () => createReadStream(built.file), this.call);
      const result: CachedEstargz = {
        digest: built.digest, size: built.size, diffId: built.diffId, tocDigest: built.tocDigest, uncompressedSize: built.uncompressedSize, missing: built.missing,
      };
      await cache?.record(layer, key, this.destination, { ...result, seconds: secondsSince(started) }, this.call);
      report(layer.size, 'uploaded');
      return converted(layer, result, started);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private noteFound(prioritized: string[], missing: string[]): void {
    const absent = new Set(missing);
    for (const p of prioritized) if (!absent.has(p)) this.found.add(p);
  }

  private work(): Promise<string> {
    this.workDir ??= mkdtemp(join(tmpdir(), 'lazyimg-convert-'));
    return this.workDir;
  }

  async close(): Promise<void> {
    await this.pool?.close();
    if (this.workDir) await rm(await this.workDir, { recursive: true, force: true });
  }
}

function converted(layer: Descriptor, c: CachedEstargz, started: number): Converted {
  return {
    source: layer.digest, digest: c.digest, size: c.size, tocDigest: c.tocDigest, sourceSize: layer.size, seconds: secondsSince(started), diffId: c.diffId,
    annotations: { [TOC_DIGEST_ANNOTATION]: c.tocDigest, [UNCOMPRESSED_SIZE_ANNOTATION]: String(c.uncompressedSize) },
  };
}
