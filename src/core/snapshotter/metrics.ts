// The daemon's Prometheus endpoint, scraped with a deadline and summarized: what was read on
// demand, what that cost in registry fetches and time, the background fetch, and per layer.
import { request } from 'node:http';
import { LazyImageError } from '../errors.js';
import { MAX_METRICS_BYTES, parsePrometheusText, type MetricFamily } from './prometheus.js';
import type { SnapshotterProfile } from './profiles.js';

export const METRICS_TIMEOUT_MS = 3000;

export interface ScrapeOptions {
  /** `host:port`, or a socket path with `network: 'unix'`. */
  address: string;
  network?: 'tcp' | 'unix';
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** GET /metrics; fails with UNREACHABLE or TIMEOUT, never waits past the deadline. */
export function scrapeMetrics(options: ScrapeOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? METRICS_TIMEOUT_MS;
  const unix = options.network === 'unix';
  const where = unix ? `unix:${options.address}` : `http://${options.address}/metrics`;
  const url = unix ? 'http://localhost/metrics' : `http://${options.address}/metrics`;
  return new Promise((resolve, reject) => {
    const req = request(url, { socketPath: unix ? options.address : undefined, signal: options.signal, headers: { accept: 'text/plain' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new LazyImageError('UNREACHABLE', `Cannot read metrics at ${where}: HTTP ${res.statusCode}`, { ref: where }));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_METRICS_BYTES) req.destroy(new Error(`more than ${MAX_METRICS_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', () => undefined); // reported through req
    });
    // One deadline for the whole exchange: a server that trickles bytes cannot hold us either.
    const timer = setTimeout(() => req.destroy(new LazyImageError('TIMEOUT', `Cannot read metrics at ${where}: no answer within ${timeoutMs} ms`, { ref: where, temporary: true })), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      if (e instanceof LazyImageError) reject(e);
      else reject(new LazyImageError(options.signal?.aborted ? 'CANCELLED' : 'UNREACHABLE', `Cannot read metrics at ${where}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { ref: where, temporary: true, cause: e }));
    });
    req.end();
  });
}

export interface Latency {
  operation: string;
  count: number;
  meanMs: number;
  /** The upper bound of the bucket holding the 95th percentile, or the last bound when it lies past it. */
  p95Ms: number | undefined;
  /** True when the 95th percentile lies past the last bucket (p95 > p95Ms). */
  p95PastBuckets: boolean;
}

export interface LayerFigures {
  /** The layer's digest. */
  layer: string;
  /** Its compressed size, and how much of it was fetched from the registry (zero when not reported). */
  size: number;
  fetched: number;
  /** Bytes the container read through FUSE. */
  served: number;
  reads: number;
  registryFetches: number;
  /** Fetched bytes by mount point (the per-layer series' `mountpoint` label): one layer can be mounted for several snapshots. */
  fetchedByMount: Record<string, number>;
}

export interface MetricsSummary {
  /** False when the daemon serves none of its filesystem metrics yet (nothing mounted). */
  hasSnapshotterMetrics: boolean;
  /** Compressed bytes fetched from the registry, of `layerBytes` in the mounted layers. */
  bytesFetched: number;
  layerBytes: number;
  /** Bytes read through FUSE, on demand. */
  bytesServed: number;
  reads: number;
  registryFetches: number;
  backgroundFetches: number | undefined;
  backgroundFetchFailures: number | undefined;
  /** Mounted layers, as the mount latency counts them. */
  mounts: number;
  /** FUSE operations that failed, by operation (soci counts them). */
  fuseFailures: Record<string, number>;
  /** Every timed operation, FUSE ones (readdir, reads) included. */
  latencies: Latency[];
  layers: LayerFigures[];
}

/** Sums a family's samples by one label and then another: operation -> layer -> value. */
function byLabels(family: MetricFamily | undefined, outer: string, inner: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const s of family?.samples ?? []) {
    const key = s.labels[outer] ?? '';
    const values = out.get(key) ?? new Map<string, number>();
    out.set(key, values);
    const sub = s.labels[inner] ?? '';
    values.set(sub, (values.get(sub) ?? 0) + s.value);
  }
  return out;
}

/**
 * Per-layer counters keyed by digest (both daemons' `<prefix>_layer_*_bytes`, one series per
 * mount): fetched bytes add up over mounts of one layer, its size does not.
 */
function byDigest(family: MetricFamily | undefined, combine: (a: number, b: number) => number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [digest, mounts] of byLabels(family, 'digest', 'mountpoint')) out.set(digest, [...mounts.values()].reduce(combine));
  return out;
}

function total(values: Map<string, number> | undefined): number {
  let sum = 0;
  for (const v of values?.values() ?? []) sum += v;
  return sum;
}

function latencies(family: MetricFamily | undefined, toMs: number): Latency[] {
  const ops = new Map<string, { count: number; sum: number; buckets: Map<number, number> }>();
  for (const s of family?.samples ?? []) {
    const op = s.labels.operation_type ?? '';
    const entry = ops.get(op) ?? { count: 0, sum: 0, buckets: new Map<number, number>() };
    ops.set(op, entry);
    if (s.name.endsWith('_count')) entry.count += s.value;
    else if (s.name.endsWith('_sum')) entry.sum += s.value;
    else if (s.name.endsWith('_bucket') && s.labels.le !== undefined) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      entry.buckets.set(le, (entry.buckets.get(le) ?? 0) + s.value);
    }
  }
  return [...ops].filter(([, e]) => e.count > 0).map(([operation, e]) => {
    const buckets = [...e.buckets].sort((a, b) => a[0] - b[0]);
    const bound = buckets.find(([, cumulative]) => cumulative >= 0.95 * e.count)?.[0];
    const lastFinite = buckets.filter(([le]) => le !== Infinity).pop()?.[0];
    const past = bound === Infinity;
    const p95 = past ? lastFinite : bound;
    return { operation, count: e.count, meanMs: (e.sum / e.count) * toMs, p95Ms: p95 === undefined ? undefined : p95 * toMs, p95PastBuckets: past };
  });
}

/**
 * The figures that say how lazy loading went, from one scrape. Fetched bytes come from the
 * per-layer `<prefix>_layer_fetched_size_bytes` counters, compressed bytes as the registry sent
 * them: soci v0.16 emits no fetched-bytes gauge, and stargz's `on_demand_bytes_fetched` counts
 * chunk bytes after inflating, which can exceed the layer several times over.
 */
export function summarizeMetrics(profile: SnapshotterProfile, families: Map<string, MetricFamily>): MetricsSummary {
  const p = profile.metricsPrefix;
  const counts = byLabels(families.get(`${p}_operation_count`), 'operation_type', 'layer');
  const bytes = byLabels(families.get(`${p}_bytes_served`), 'operation_type', 'layer');
  const fetchedFamily = families.get(`${p}_layer_fetched_size_bytes`);
  const fetched = byDigest(fetchedFamily, (a, b) => a + b);
  const mountPoints = byLabels(fetchedFamily, 'digest', 'mountpoint');
  const sizes = byDigest(families.get(`${p}_layer_size_bytes`), (a, b) => Math.max(a, b));
  const names = profile.metrics;
  const lat = [...latencies(families.get(`${p}_operation_duration_milliseconds`), 1), ...latencies(families.get(`${p}_operation_duration_microseconds`), 0.001)];
  const served = bytes.get(names.bytesServed);
  const reads = counts.get(names.reads);
  const registry = counts.get(names.registryFetches);
  const layerNames = new Set<string>([...sizes.keys(), ...fetched.keys()]);
  for (const m of [served, reads, registry]) for (const layer of m?.keys() ?? []) if (layer !== '') layerNames.add(layer);
  const fuseFailures: Record<string, number> = {};
  for (const [op, values] of counts) if (/^fuse_.*failure_count$/.test(op) && total(values) > 0) fuseFailures[op] = total(values);
  return {
    hasSnapshotterMetrics: [...families.keys()].some((n) => n.startsWith(`${p}_`)),
    bytesFetched: total(fetched),
    layerBytes: total(sizes),
    bytesServed: total(served),
    reads: total(reads),
    registryFetches: total(registry),
    backgroundFetches: names.backgroundFetches === undefined ? undefined : total(counts.get(names.backgroundFetches)),
    backgroundFetchFailures: names.backgroundFetchFailures === undefined ? undefined : total(counts.get(names.backgroundFetchFailures)),
    mounts: lat.find((l) => l.operation === 'mount')?.count ?? 0,
    fuseFailures,
    latencies: lat,
    layers: [...layerNames].sort().map((layer) => ({
      layer,
      size: sizes.get(layer) ?? 0,
      fetched: fetched.get(layer) ?? 0,
      served: served?.get(layer) ?? 0,
      reads: reads?.get(layer) ?? 0,
      registryFetches: registry?.get(layer) ?? 0,
      fetchedByMount: Object.fromEntries(mountPoints.get(layer) ?? []),
    })),
  };
}

/** Scrapes and summarizes in one step. */
export async function readMetrics(profile: SnapshotterProfile, options: ScrapeOptions): Promise<MetricsSummary> {
  return summarizeMetrics(profile, parsePrometheusText(await scrapeMetrics(options)));
}
