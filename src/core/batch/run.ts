// Runs a shard of a plan: items one after another (each job already works two layers at a time),
// every layer through the cache, so a layer shared by items (or done by an earlier run) is built
// once. An item whose record says its destination already holds the result is skipped. A failed
// item is reported and the next one runs; a cancelled batch stops at once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cancelled, describeError, LazyImageError, throwIfAborted } from '../errors.js';
import { isContentProblem, platformImages, type Stores } from '../image/index.js';
import { buildSociIndexes, convertImage, secondsSince, type ProgressSink } from '../jobs/index.js';
import { parsePlatform, parseReference, type CallOptions, type Descriptor, type ImageStore } from '../oci/index.js';
import { forEachLimit } from '../pool.js';
import { BatchCache, type CacheListener, type ItemRecord } from './cache.js';
import { expandPlan, type BatchItem, type ItemOperation } from './expand.js';
import type { BatchPlan } from './plan.js';
import { assignShards, formatShard, runOrder, type Shard } from './shard.js';

/** One JSON line per item (type "item"). */
export interface BatchItemResult {
  type: 'item';
  source: string;
  sourceDigest?: string;
  operation: ItemOperation;
  destination: string;
  /** The destination's manifest or index digest, when done or skipped. */
  digest?: string;
  /** skipped: the destination already held the right result. */
  outcome: 'done' | 'skipped' | 'failed';
  /** skipped: layers that get no zTOC (too small, zstd). */
  layers: { built: number; reused: number; skipped: number };
  /** read: source layers read to build; written: results built, and cached ones streamed (not mounted). */
  bytes: { read: number; written: number };
  seconds: number;
  shard: string;
  error?: { code: string; message: string };
  /** Records of the cache that could not be trusted, prioritized or prefetch paths in no layer. */
  warnings?: string[];
}

/** One JSON line per layer built and recorded in the cache (type "layer"). */
export interface BatchLayerBuilt {
  type: 'layer';
  /** The item's source reference. */
  item: string;
  /** The item's operation: an eStargz layer for estargz, a zTOC for soci-v2 and soci-v1. */
  operation: string;
  /** The source layer's digest. */
  source: string;
  /** The built eStargz layer's or zTOC's digest. */
  result: string;
  /** The source layer's size: the bytes read to build it. */
  bytes: number;
  seconds: number;
  shard: string;
}

/** The last line (type "summary"). */
export interface BatchSummary {
  type: 'summary';
  shard: string;
  items: number;
  done: number;
  skipped: number;
  failed: number;
  /** Distinct source layers across the shard's items. */
  distinctLayers: number;
  layersBuilt: number;
  layersReused: number;
  seconds: number;
}

/** `--dry-run`: an item the shard would do. */
export interface BatchPlanned {
  type: 'planned';
  source: string;
  operation: ItemOperation;
  destination: string;
  /** The source's layers (all platforms done), and their bytes. */
  layers: number;
  bytes: number;
  shard: string;
}

export type BatchEvent = BatchItemResult | BatchLayerBuilt | BatchSummary;

export interface BatchOptions {
  shard?: Shard;
  /** The cache (`registry/repository` or `oci:<folder>`); overrides the plan's. */
  cache?: string;
  signal?: AbortSignal;
  /** The lines, in order. */
  onEvent?: (e: BatchEvent) => void;
  /** Per layer as the jobs report it; per image, an item named `<source> <operation>` labelled `image i/n`. */
  onProgress?: ProgressSink;
}

interface Sharded {
  items: BatchItem[];
  layers: Descriptor[][];
  cacheRepository?: string;
}

/** The items of the shard, with the layers they read (what `--dry-run` prints). */
export async function planBatch(plan: BatchPlan, stores: Stores, options: Omit<BatchOptions, 'onEvent'> = {}): Promise<BatchPlanned[]> {
  const { items, layers } = await shardItems(plan, stores, options);
  const shard = formatShard(options.shard);
  return items.map((item, i) => ({
    type: 'planned', source: item.source, operation: item.operation, destination: item.destination,
    layers: layers[i]!.length, bytes: layers[i]!.reduce((n, l) => n + l.size, 0), shard,
  }));
}

export async function runBatch(plan: BatchPlan, stores: Stores, options: BatchOptions = {}): Promise<BatchSummary> {
  const started = performance.now();
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const shard = formatShard(options.shard);
  const emit = (e: BatchEvent): void => options.onEvent?.(e);
  const { cache, close } = await openCache(stores, options.cache ?? plan.cache, call);
  try {
    const { items, layers } = await shardItems(plan, stores, { ...options, cacheRepository: cacheName(options.cache ?? plan.cache) });
    const summary: BatchSummary = {
      type: 'summary', shard, items: items.length, done: 0, skipped: 0, failed: 0,
      distinctLayers: new Set(layers.flat().map((l) => l.digest)).size, layersBuilt: 0, layersReused: 0, seconds: 0,
    };
    for (const [i, item] of items.entries()) {
      throwIfAborted(options.signal);
      const name = `${item.source} ${item.operation}`;
      const image = (done: number, outcome?: 'uploaded' | 'existed' | 'failed'): void =>
        options.onProgress?.({ kind: 'item', item: name, label: `image ${i + 1}/${items.length}`, done, total: 1, ...(outcome ? { outcome } : {}) });
      image(0);
      const result = await runItem(item, stores, cache, { ...options, shard, emit: (e) => {
        summary.layersBuilt++;
        emit(e);
      } });
      summary[result.outcome]++;
      summary.layersReused += result.layers.reused;
      image(1, result.outcome === 'done' ? 'uploaded' : result.outcome === 'skipped' ? 'existed' : 'failed');
      emit(result);
    }
    summary.seconds = secondsSince(started);
    emit(summary);
    return summary;
  } finally {
    await close();
  }
}

/** The cache store; with none given, a folder for this run only (layers shared by items are still built once). */
async function openCache(stores: Stores, ref: string | undefined, call: CallOptions): Promise<{ cache: BatchCache; close: () => Promise<void> }> {
  if (ref !== undefined) {
    const parsed = parseReference(ref);
    if (parsed.digest !== undefined) throw new LazyImageError('INVALID_ARGUMENT', `cache ${ref}: name a repository or an OCI layout folder, not a digest`);
    throwIfAborted(call.signal);
    return { cache: new BatchCache(await stores.open(parsed, { create: true })), close: async () => undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'lazyimg-batch-cache-'));
  return { cache: new BatchCache(await stores.open({ kind: 'oci-layout', path: dir }, { create: true })), close: () => rm(dir, { recursive: true, force: true }) };
}

function cacheName(ref: string | undefined): string | undefined {
  const parsed = ref !== undefined ? parseReference(ref) : undefined;
  return parsed?.kind === 'registry' ? `${parsed.registry}/${parsed.repository}` : undefined;
}

async function shardItems(plan: BatchPlan, stores: Stores, options: { shard?: Shard; signal?: AbortSignal; cacheRepository?: string }): Promise<Sharded> {
  const call: CallOptions = options.signal ? { signal: options.signal } : {};
  const all = await expandPlan(plan, stores, { ...call, ...(options.cacheRepository ? { exclude: [options.cacheRepository] } : {}) });
  const layers = await readLayers(all, stores, call);
  if (!options.shard || options.shard.count === 1) return { items: all, layers };
  const inputs = all.map((item, i) => ({ name: `${item.source} ${item.operation}`, layers: layers[i]! }));
  const mine = runOrder(inputs, assignShards(inputs, options.shard.count), options.shard.index);
  return { items: mine.map((i) => all[i]!), layers: mine.map((i) => layers[i]!) };
}

/**
 * Each item's source layers, for every platform it does. A source that cannot be read (missing,
 * broken) has none here and fails when its item runs; any other failure (the registry is
 * unreachable) stops the batch, as shards must all see the same layers to agree on the deal.
 */
async function readLayers(items: BatchItem[], stores: Stores, call: CallOptions): Promise<Descriptor[][]> {
  const bySource = new Map<string, Promise<Descriptor[]>>();
  const out: Descriptor[][] = [];
  await forEachLimit(items, 4, async (item, i) => {
    const key = `${item.source} ${item.platform ?? ''} ${item.allPlatforms ? 'all' : ''}`;
    let layers = bySource.get(key);
    if (!layers) bySource.set(key, (layers = imageLayers(item, stores, call)));
    out[i] = await layers;
  });
  return out;
}

async function imageLayers(item: BatchItem, stores: Stores, call: CallOptions): Promise<Descriptor[]> {
  try {
    const ref = parseReference(item.source);
    const store = await stores.open(ref);
    const root = await store.getManifest(await store.resolve(ref.digest ?? ref.tag, call), call);
    const platform = item.platform !== undefined ? parsePlatform(item.platform) : undefined;
    const images = await platformImages(store, root, { ...(platform ? { platform } : {}), ...(item.allPlatforms ? { allPlatforms: true } : {}) }, 'Cannot read', call);
    const layers = new Map<string, Descriptor>();
    for (const image of images) if (image.kind === 'manifest') for (const l of image.manifest.layers) layers.set(l.digest, l);
    return [...layers.values()];
  } catch (e) {
    if (isContentProblem(e) || (e instanceof LazyImageError && (e.code === 'UNSUPPORTED' || e.code === 'INVALID_REFERENCE'))) return [];
    throw e;
  }
}

interface ItemContext {
  shard: string;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  emit: (e: BatchLayerBuilt) => void;
}

async function runItem(item: BatchItem, stores: Stores, cache: BatchCache, context: ItemContext): Promise<BatchItemResult> {
  const started = performance.now();
  const call: CallOptions = context.signal ? { signal: context.signal } : {};
  const warnings: string[] = [];
  const written = { reused: 0 };
  const result: BatchItemResult = {
    type: 'item', source: item.source, operation: item.operation, destination: item.destination, outcome: 'done',
    layers: { built: 0, reused: 0, skipped: 0 }, bytes: { read: 0, written: 0 }, seconds: 0, shard: context.shard,
  };
  const listener: CacheListener = {
    built: (_kind, source, built, seconds) => context.emit({
      type: 'layer', item: item.source, operation: item.operation, source: source.digest, result: built.digest, bytes: source.size, seconds, shard: context.shard,
    }),
    reused: (_kind, _source, reused, how) => {
      if (how === 'uploaded') written.reused += reused.size;
    },
    warn: (m) => warnings.push(m),
  };
  try {
    const src = parseReference(item.source);
    const dst = parseReference(item.destination);
    const source = await stores.open(src);
    const sourceDigest = (await source.resolve(src.digest ?? src.tag, call)).digest;
    result.sourceDigest = sourceDigest;
    const destination = await stores.open(dst, { create: true });
    const fields = itemFields(item, sourceDigest);
    const record = await cache.item(fields, listener.warn, call);
    if (record && (await stillThere(destination, item, sourceDigest, record, call))) {
      result.outcome = 'skipped';
      result.digest = record.digest;
    } else {
      const hooks = cache.hooks(listener);
      const platform = item.platform !== undefined ? { platform: parsePlatform(item.platform) } : {};
      const common = { ...call, ...platform, ...(item.allPlatforms ? { allPlatforms: true } : {}), ...(context.onProgress ? { onProgress: context.onProgress } : {}) };
      const ref = src.digest ?? src.tag;
      let done: ItemRecord;
      if (item.operation === 'estargz') {
        const e = item.estargz ?? {};
        const converted = await convertImage(source, ref, destination, dst.tag, {
          ...common, cache: hooks.estargz, ...(e.level !== undefined ? { level: e.level } : {}), ...(e.chunkSize !== undefined ? { chunkSize: e.chunkSize } : {}), prioritized: e.prioritized ?? [],
        });
        for (const l of converted.layers) {
          if (l.reused) result.layers.reused++;
          else {
            result.layers.built++;
            result.bytes.read += l.sourceSize;
            result.bytes.written += l.size;
          }
        }
        if (converted.missing.length) warnings.push(`prioritized paths in no layer: ${converted.missing.join(', ')}`);
        done = { sourceDigest, destination: item.destination, digest: converted.descriptor.digest, sociIndexes: [] };
      } else {
        const s = item.soci ?? {};
        const indexed = await buildSociIndexes(source, ref, destination, dst.tag ?? src.tag, {
          ...common, cache: hooks.ztoc, version: item.operation === 'soci-v1' ? 'v1' : 'v2',
          ...(s.spanSize !== undefined ? { spanSize: s.spanSize } : {}), ...(s.minLayerSize !== undefined ? { minLayerSize: s.minLayerSize } : {}),
          ...(s.prefetch?.length ? { prefetchFiles: s.prefetch } : {}),
        });
        const seen = new Set<string>();
        for (const l of indexed.indexes.flatMap((ix) => ix.layers)) {
          if (seen.has(l.digest)) continue;
          seen.add(l.digest);
          if (!l.ztoc) result.layers.skipped++;
          else if (l.reused) result.layers.reused++;
          else {
            result.layers.built++;
            result.bytes.read += l.size;
            result.bytes.written += l.ztoc.size;
          }
        }
        const missing = [...new Set(indexed.indexes.flatMap((ix) => ix.prefetch?.missing ?? []))];
        if (missing.length) warnings.push(`not prefetched, in no layer with a zTOC: ${missing.join(', ')}`);
        done = { sourceDigest, destination: item.destination, digest: indexed.image.digest, sociIndexes: item.operation === 'soci-v1' ? indexed.indexes.map((ix) => ix.index.digest) : [] };
      }
      // The record goes last: a rerun skips the item only once everything is in place.
      await cache.putItem(fields, done, call);
      result.digest = done.digest;
      result.bytes.written += written.reused;
    }
  } catch (e) {
    if (context.signal?.aborted) throw cancelled(item.source);
    result.outcome = 'failed';
    result.error = { code: e instanceof LazyImageError ? e.code : 'INTERNAL', message: describeError(e) };
  }
  result.seconds = secondsSince(started);
  if (warnings.length) result.warnings = warnings;
  return result;
}

/** What decides an item's result: a change in any of these makes a new record. */
function itemFields(item: BatchItem, sourceDigest: string): Record<string, unknown> {
  return {
    source: sourceDigest, operation: item.operation, destination: item.destination, platform: item.platform, allPlatforms: item.allPlatforms,
    estargz: item.operation === 'estargz' ? item.estargz ?? {} : undefined, soci: item.operation !== 'estargz' ? item.soci ?? {} : undefined,
  };
}

/** Whether the destination still holds what the record says: its tag on the digest, v1's indexes there. */
async function stillThere(destination: ImageStore, item: BatchItem, sourceDigest: string, record: ItemRecord, call: CallOptions): Promise<boolean> {
  if (record.sourceDigest !== sourceDigest || record.destination !== item.destination) return false;
  const dst = parseReference(item.destination);
  try {
    if ((await destination.resolve(dst.tag ?? dst.digest, call)).digest !== record.digest) return false;
    for (const index of record.sociIndexes) await destination.getManifest(index, call);
    return true;
  } catch (e) {
    if (isContentProblem(e)) return false;
    throw e;
  }
}
