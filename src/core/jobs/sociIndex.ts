// `index`: SOCI indexes for an image, without converting it. Each layer of at least the minimum
// size gets a zTOC built in one read; the zTOCs go in a SOCI index manifest. v2 (the default, as
// `soci convert` does): a new image index whose platform manifests carry their SOCI index's
// digest, beside the index descriptors; layers, config and their digests are unchanged. v1 (as
// `soci create` and `soci push`): the index names the image manifest as its `subject` and is
// found through the referrers API, or the `sha256-<hex>` tag the store keeps where there is none.
// Given files to prefetch, each index also lists a prefetch artifact per layer holding some of
// them (soci's --prefetch-file), which soci-snapshotter fetches at mount when prefetch is enabled.
import { PassThrough, Readable } from 'node:stream';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { MAX_SPAN_BYTES } from '../limits.js';
import { imagePlatform, platformImages, readImageConfig } from '../image/index.js';
import { formatReference, MediaType, sha256, type CallOptions, type Descriptor, type ImageDocument, type ImageReference, type ImageIndex, type ImageManifest, type ImageStore, type ManifestDocument, type Platform } from '../oci/index.js';
import {
  decodeZtoc, DEFAULT_MIN_LAYER_SIZE, DEFAULT_SPAN_SIZE, EMPTY_CONFIG, encodePrefetchArtifact, goIndex, goManifest, INDEX_DIGEST_ANNOTATION, layerCompression, planPrefetch, prefetchDescriptor,
  SOCI_INDEX_V1, SOCI_INDEX_V2, sociIndexDescriptor, sociIndexManifest, ZTOC_MEDIA_TYPE, ZtocThreads, type PrefetchFile, type PrefetchLayer, type PrefetchSpan, type SociVersion, type ThreadBuiltZtoc, type Ztoc, type ZtocRef,
} from '../soci/index.js';
import { copyImage } from './copy.js';
import { afterAll, forEachLimit } from '../pool.js';
import type { ZtocCache } from './layerCache.js';
import { secondsSince, type ProgressSink } from './progress.js';

const LAYERS_AT_ONCE = 2;

export interface SociIndexOptions {
  /** v2 by default; v1 attaches the indexes to the image in the destination as referrers. */
  version?: SociVersion;
  spanSize?: number;
  /** Layers smaller than this get no zTOC (the snapshotter fetches them whole). */
  minLayerSize?: number;
  platform?: Platform;
  allPlatforms?: boolean;
  /**
   * Files to prefetch at mount (soci's --prefetch-file): absolute or not, matched against the tar
   * names of the topmost layer with a zTOC that has them. Each index gets a prefetch artifact per
   * layer holding some; with the same files, the same bytes as `soci convert`.
   */
  prefetchFiles?: string[];
  /** zTOCs kept across jobs: each is asked before a layer is indexed, and told of each one built. */
  cache?: ZtocCache;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export interface IndexedLayer {
  digest: string;
  size: number;
  /** Set when the layer got a zTOC. */
  ztoc?: { digest: string; size: number; spans: number; files: number };
  /** Why it got none. */
  skipped?: string;
  /**
   * With a zTOC: wall time from the start of reading the layer to its zTOC being stored (the layer
   * too, when it had to be copied). Layers run two at a time. Optional in the protocol (since 1.7).
   */
  seconds?: number;
  /** Set when the zTOC came from the cache: the layer was not read. */
  reused?: true;
}

/** What the prefetch files became in one index. */
export interface PrefetchResult {
  /** One per layer holding some of the files, as listed in the index. */
  artifacts: Array<{ layer: string; digest: string; size: number; spans: PrefetchSpan[] }>;
  /** Each file found: the tar entry it matched, in which layer, and its spans. */
  files: PrefetchFile[];
  /** Files in no layer with a zTOC (soci only warns): they are not prefetched. */
  missing: string[];
}

export interface PlatformIndex {
  platform?: Platform;
  /** The image manifest the index describes (v2: the rewritten one that points at it). */
  manifest: Descriptor;
  index: Descriptor;
  layers: IndexedLayer[];
  /** Set when files to prefetch were given. */
  prefetch?: PrefetchResult;
}

export interface SociIndexResult {
  version: SociVersion;
  /** v2: the new image index, at the destination tag; v1: the image, unchanged, at the destination. */
  image: Descriptor;
  indexes: PlatformIndex[];
}

/**
 * Where an index job writes: `given`, or by default for v2 the source's tag plus `-soci` beside
 * it, for v1 the source itself. A v2 SOCI-enabled image is a new index, so it needs a tag.
 */
export function sociDestination(source: ImageReference, given: ImageReference | undefined, version: SociVersion): ImageReference {
  if (given === undefined && version === 'v1') return source;
  if (given === undefined && source.tag === undefined) throw new LazyImageError('INVALID_ARGUMENT', `Cannot name a destination for ${formatReference(source)}: it has no tag, so give one`);
  const destination: ImageReference = given ?? { ...source, tag: `${source.tag!}-soci` };
  if (given === undefined) delete destination.digest;
  if (version === 'v2' && destination.digest !== undefined) {
    throw new LazyImageError('INVALID_ARGUMENT', `Cannot index into ${formatReference(destination)}: the SOCI-enabled image is a new index, so the destination needs a tag, not a digest`, { ref: formatReference(destination) });
  }
  return destination;
}

export async function buildSociIndexes(
  source: ImageStore, sourceRef: string | undefined, destination: ImageStore, destinationTag: string | undefined, options: SociIndexOptions = {},
): Promise<SociIndexResult> {
  const version = options.version ?? 'v2';
  const spanSize = options.spanSize ?? DEFAULT_SPAN_SIZE;
  const minLayerSize = options.minLayerSize ?? DEFAULT_MIN_LAYER_SIZE;
  if (!Number.isSafeInteger(spanSize) || spanSize < 1) throw new LazyImageError('INVALID_ARGUMENT', `span size ${spanSize} is not a positive number of bytes`);
  // Readers, ours and the snapshotter's, hold a whole span: past this a zTOC is refused.
  if (spanSize > MAX_SPAN_BYTES) throw new LazyImageError('INVALID_ARGUMENT', `span size ${spanSize} is over the ${MAX_SPAN_BYTES}-byte limit`);
  if (!Number.isSafeInteger(minLayerSize) || minLayerSize < 0) throw new LazyImageError('INVALID_ARGUMENT', `minimum layer size ${minLayerSize} is not a number of bytes`);
  const call = options.signal ? { signal: options.signal } : {};
  // The zTOC threads start now, so their start-up overlaps reading the manifests.
  const indexer = new Indexer(source, destination, { ...options, spanSize, minLayerSize });
  const skippedAll: string[] = [];
  const built: Array<{ image: ManifestDocument; refs: ZtocRef[]; layers: IndexedLayer[]; prefetch?: PrefetchPlanned }> = [];
  let root: ManifestDocument;
  try {
    root = await source.getManifest(await source.resolve(sourceRef, call), call);
    const images = await platformImages(source, root, options, 'Cannot index', call);
    for (const image of images) {
      if (image.kind !== 'manifest') throw new LazyImageError('UNSUPPORTED', `Cannot index ${source.name}: nested index ${image.descriptor.digest}`, { ref: source.name });
      const layers = await indexer.layers(image);
      const refs = layers.filter((l) => l.ref).map((l) => l.ref!);
      const prefetch = options.prefetchFiles?.length ? planned(image, layers, options.prefetchFiles, source.name) : undefined;
      if (refs.length) built.push({ image, refs, layers: layers.map((l) => l.result), ...(prefetch ? { prefetch } : {}) });
      else skippedAll.push(`${image.descriptor.digest}: ${layers.map((l) => `${l.result.digest} ${l.result.skipped}`).join('; ')}`);
    }
  } finally {
    await indexer.close();
  }
  if (built.length === 0) {
    throw new LazyImageError('NOT_FOUND', `Cannot index ${source.name}: no layer got a zTOC (${skippedAll.join(' | ')})`, { ref: source.name });
  }
  throwIfAborted(options.signal, source.name);
  // The rest of the source tree (indexed layers were stored as they were read), before anything
  // that refers to it. v1 tags the image itself at the destination; v2 tags the new index below.
  const copied = await copyImage(source, sourceRef, destination, version === 'v1' ? destinationTag : undefined, { allPlatforms: true, ...call });
  const configType = version === 'v1' ? SOCI_INDEX_V1 : SOCI_INDEX_V2;
  await destination.putBlob({ mediaType: configType, digest: sha256(EMPTY_CONFIG), size: EMPTY_CONFIG.length }, async () => Readable.from([EMPTY_CONFIG]), call);
  const indexes: PlatformIndex[] = [];
  for (const { image, refs, layers, prefetch } of built) {
    for (const a of prefetch?.artifacts ?? []) await destination.putBlob(a.descriptor, async () => Readable.from([a.bytes]), call);
    // v1's subject is the platform's image manifest (never an index); the store records the referrer.
    const manifest = sociIndexManifest(version, refs, image.descriptor, prefetch?.artifacts.map((a) => a.descriptor));
    const index = await destination.putManifest(manifest, MediaType.OciManifest, undefined, call);
    indexes.push({
      ...(image.descriptor.platform ? { platform: image.descriptor.platform } : {}), manifest: image.descriptor, index, layers,
      ...(prefetch ? { prefetch: prefetch.result } : {}),
    });
  }
  if (version === 'v1') return { version, image: copied.descriptor, indexes };
  const image = await writeV2Image(source, destination, root, indexes, destinationTag, call);
  return { version, image, indexes };
}

interface PrefetchPlanned {
  artifacts: Array<{ descriptor: Descriptor; bytes: Buffer }>;
  result: PrefetchResult;
}

/** The prefetch artifacts of one image's index, from the zTOCs its layers got. */
function planned(image: ImageDocument, layers: LayerOutcome[], files: string[], where: string): PrefetchPlanned {
  // A layer listed twice has one zTOC, decoded once.
  const decoded = new Map<string, Ztoc>();
  const prefetchLayers = image.manifest.layers.map((l, i): PrefetchLayer => {
    const bytes = layers[i]!.ztocBytes;
    if (!bytes) return { digest: l.digest };
    if (!decoded.has(l.digest)) decoded.set(l.digest, decodeZtoc(bytes, `${where}: the zTOC of layer ${l.digest}`));
    return { digest: l.digest, ztoc: decoded.get(l.digest)! };
  });
  const plan = planPrefetch(prefetchLayers, files, `${where} ${image.descriptor.digest}`);
  const artifacts = plan.artifacts.map(({ layer, spans }) => {
    const bytes = encodePrefetchArtifact(spans);
    return { layer, spans, bytes, descriptor: prefetchDescriptor(layer, bytes) };
  });
  return {
    artifacts,
    result: { artifacts: artifacts.map(({ layer, spans, descriptor }) => ({ layer, digest: descriptor.digest, size: descriptor.size, spans })), files: plan.files, missing: plan.missing },
  };
}

/**
 * The SOCI-enabled image, laid out as `soci convert` does: each indexed platform manifest
 * rewritten with the index digest, then one descriptor per SOCI index. The entries are updated to
 * name the rewritten manifests and their platforms.
 */
async function writeV2Image(source: ImageStore, destination: ImageStore, root: ManifestDocument, indexes: PlatformIndex[], tag: string | undefined, call: { signal?: AbortSignal }): Promise<Descriptor> {
  const rewritten = new Map<string, Descriptor>();
  for (const entry of indexes) {
    const doc = await source.getManifest(entry.manifest, call);
    if (doc.kind !== 'manifest') continue;
    const m = doc.manifest;
    const manifest: ImageManifest = {
      ...m,
      mediaType: MediaType.OciManifest,
      config: { ...m.config, mediaType: MediaType.OciConfig },
      annotations: { ...m.annotations, [INDEX_DIGEST_ANNOTATION]: entry.index.digest },
    };
    const written = await destination.putManifest(goManifest(manifest), MediaType.OciManifest, undefined, call);
    const platform = entry.platform ?? (await platformOf(source, m, call));
    rewritten.set(entry.manifest.digest, { mediaType: MediaType.OciManifest, digest: written.digest, size: written.size, annotations: manifest.annotations!, platform });
    entry.manifest = rewritten.get(entry.manifest.digest)!;
    entry.platform = platform;
  }
  const base: Descriptor[] = root.kind === 'index' ? root.index.manifests : [root.descriptor];
  const manifests = base.map((d) => {
    const r = rewritten.get(d.digest);
    return r ? { ...r, ...(d.platform ? { platform: d.platform } : {}) } : d;
  });
  for (const entry of indexes) {
    const descriptor = sociIndexDescriptor(entry.index, entry.manifest);
    // One SOCI index per platform: a new one replaces an older one for the same platform.
    const old = manifests.findIndex((d) => d.artifactType === SOCI_INDEX_V2 && JSON.stringify(d.platform) === JSON.stringify(descriptor.platform));
    if (old >= 0) manifests.splice(old, 1);
    manifests.push(descriptor);
  }
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.OciIndex,
    ...(root.kind === 'index' && root.index.artifactType ? { artifactType: root.index.artifactType } : {}),
    manifests,
    ...(root.kind === 'index' && root.index.annotations ? { annotations: root.index.annotations } : {}),
  };
  return destination.putManifest(goIndex(index), MediaType.OciIndex, tag, call);
}

/** A single-platform image has its platform only in its config. */
async function platformOf(store: ImageStore, m: ImageManifest, call: CallOptions): Promise<Platform> {
  return imagePlatform(await readImageConfig(store, m.config, call)) ?? { architecture: '', os: '' };
}

interface LayerOutcome {
  result: IndexedLayer;
  ref?: ZtocRef;
  /** The zTOC, kept when files are to be prefetched. */
  ztocBytes?: Buffer;
}

class Indexer {
  /** By layer digest: a layer shared by platforms gets one zTOC. */
  private readonly done = new Map<string, Promise<LayerOutcome>>();

  private readonly threads = new ZtocThreads(LAYERS_AT_ONCE);

  constructor(private readonly source: ImageStore, private readonly destination: ImageStore, private readonly options: SociIndexOptions & { spanSize: number; minLayerSize: number }) {}

  close(): Promise<void> {
    return this.threads.close();
  }

  async layers(image: ImageDocument): Promise<LayerOutcome[]> {
    const layers = image.manifest.layers;
    for (const l of layers) {
      if (!layerCompression(l.mediaType)) throw new LazyImageError('UNSUPPORTED', `Cannot index ${this.source.name}: layer ${l.digest} has media type ${l.mediaType}, not a tar layer`, { ref: this.source.name });
    }
    this.options.onProgress?.({ kind: 'plan', items: layers.map((l, i) => ({ item: l.digest, label: `layer ${i + 1}/${layers.length}`, total: l.size })) });
    const out: LayerOutcome[] = [];
    await forEachLimit(layers, LAYERS_AT_ONCE, async (layer, i) => {
      let outcome = this.done.get(layer.digest);
      if (!outcome) {
        outcome = this.layer(layer, `layer ${i + 1}/${layers.length}`);
        this.done.set(layer.digest, outcome);
      }
      out[i] = await outcome;
    });
    return out;
  }

  private async layer(layer: Descriptor, label: string): Promise<LayerOutcome> {
    const { signal } = this.options;
    const call = signal ? { signal } : {};
    const compression = layerCompression(layer.mediaType)!;
    const base = { digest: layer.digest, size: layer.size };
    const report = (done: number, outcome?: 'uploaded' | 'existed'): void => this.options.onProgress?.({ kind: 'item', item: layer.digest, label, done, total: layer.size, ...(outcome ? { outcome } : {}) });
    if (layer.size < this.options.minLayerSize) {
      report(layer.size, 'existed');
      return { result: { ...base, skipped: `smaller than the minimum layer size (${this.options.minLayerSize} bytes)` } };
    }
    if (compression === 'zstd') {
      report(layer.size, 'existed');
      return { result: { ...base, skipped: 'zstd layers are not supported by SOCI' } };
    }
    const where = `${this.source.name} ${label} (${layer.digest})`;
    const started = performance.now();
    const prefetching = (this.options.prefetchFiles?.length ?? 0) > 0;
    const cached = await this.options.cache?.reuse(layer, this.options.spanSize, this.destination, { ...call, bytes: prefetching });
    if (cached) {
      // The layer itself is copied with the rest of the image.
      report(layer.size, 'existed');
      const ztoc: Descriptor = { mediaType: ZTOC_MEDIA_TYPE, digest: cached.digest, size: cached.size };
      return {
        result: { ...base, ztoc: { digest: cached.digest, size: cached.size, spans: cached.spans, files: cached.files }, seconds: secondsSince(started), reused: true },
        ref: { ztoc, layer, spanSize: this.options.spanSize },
        ...(prefetching ? { ztocBytes: cached.bytes! } : {}),
      };
    }
    const threadOptions = { spanSize: this.options.spanSize, size: layer.size, ...call, onRead: (n: number) => report(Math.min(n, layer.size)) };
    const missing = !(await this.destination.hasBlob(layer, call));
    // A file's read stream hands out chunks no one else holds: they can move to the thread.
    const file = await this.source.blobFile?.(layer);
    // Opened last, when its readers take it at once: a cancellation destroys it with an error, and
    // with no one listening yet that error would end the process.
    const blob = await this.source.getBlob(layer, call);
    if (!missing || (file && this.destination.adoptBlobFile)) {
      const indexed = this.threads.build(blob, compression, where, { ...threadOptions, owned: file !== undefined });
      // Both on this disk: the store copies the file in the kernel while the layer is indexed,
      // and keeps the copy only if the read for the index found the right digest.
      const copied = missing ? this.destination.adoptBlobFile!(layer, file!, { keep: true, verified: indexed, ...call }) : undefined;
      const built = await afterAll(indexed, copied);
      return this.stored(layer, built, base, report, started);
    }
    // Else one read of the layer both indexes it and stores it.
    const indexing = new PassThrough();
    const stored = new PassThrough();
    blob.on('error', (e) => {
      indexing.destroy(e);
      stored.destroy(e);
    });
    // The store reports errors in what it reads; when it never reads (it failed first, or found the
    // layer there), the index reports them, and none may go unheard: that would end the process.
    stored.on('error', () => undefined);
    blob.pipe(indexing);
    blob.pipe(stored);
    const indexed = this.threads.build(indexing, compression, where, threadOptions);
    // A failed index stops the read, so the store's copy fails too instead of waiting for bytes.
    indexed.catch((e: Error) => blob.destroy(e));
    let handed = false;
    const open = async (): Promise<Readable> => {
      if (handed) return this.source.getBlob(layer, call); // a retried upload reads the layer again
      handed = true;
      return stored;
    };
    const put = this.destination.putBlob(layer, open, call).then((outcome) => {
      // The store may not have read it all, or at all: the blob appeared since hasBlob (another
      // writer put it), or a retry read it afresh. Unread, it would hold up the index forever.
      stored.destroy();
      return outcome;
    }, (e: Error) => {
      blob.destroy(e);
      throw e;
    });
    const built = await afterAll(indexed, put);
    return this.stored(layer, built, base, report, started);
  }

  /** Stores a layer's zTOC once the layer is in the destination. */
  private async stored(layer: Descriptor, built: ThreadBuiltZtoc, base: { digest: string; size: number }, report: (done: number, outcome: 'uploaded') => void, started: number): Promise<LayerOutcome> {
    const call = this.options.signal ? { signal: this.options.signal } : {};
    const ztoc: Descriptor = { mediaType: ZTOC_MEDIA_TYPE, digest: built.digest, size: built.bytes.length };
    await this.destination.putBlob(ztoc, async () => Readable.from([built.bytes]), call);
    await this.options.cache?.record(layer, this.options.spanSize, { digest: built.digest, size: built.bytes.length, spans: built.spans, files: built.files, bytes: built.bytes, seconds: secondsSince(started) }, call);
    report(layer.size, 'uploaded');
    return {
      result: { ...base, ztoc: { digest: built.digest, size: built.bytes.length, spans: built.spans, files: built.files }, seconds: secondsSince(started) },
      ref: { ztoc, layer, spanSize: this.options.spanSize },
      ...(this.options.prefetchFiles?.length ? { ztocBytes: built.bytes } : {}),
    };
  }
}
