// The dashboard's charts over time, kept by the host so they outlive the webview (which VS Code
// discards while hidden): each status read adds one sample of the daemon's metrics, up to the last
// MAX_SAMPLES. Counters stay cumulative; latencies become the mean since the sample before, from
// the histograms' counts and sums, as a mean since the daemon started hides what is slow now.
import type { MetricsSummary, SnapshotterProfile } from '../../core/snapshotter/index.js';
import type { Column, DashboardSeries } from '../webviews/dashboardData.js';

/** Half an hour at one read every 5 s. */
export const MAX_SAMPLES = 360;

type Totals = Map<string, { count: number; sum: number }>;
type MetricNames = SnapshotterProfile['metrics'];

export class MetricsHistory {
  readonly series: DashboardSeries;
  /** The latency histograms' totals at the sample before; none after a gap. */
  private last: Totals | undefined;

  /** `saved`: the series a reloaded dashboard showed, taken when it has this daemon's shape. */
  constructor(private readonly names: MetricNames, saved?: unknown) {
    this.series = isSeries(saved, names) ? saved : emptySeries(names);
  }

  /** One sample at `at` (seconds since the epoch); without a summary (metrics off or down), a gap. */
  add(at: number, summary: MetricsSummary | undefined): void {
    const s = this.series;
    s.t.push(at);
    const totals: Totals | undefined = summary && new Map(summary.latencies.map((l) => [l.operation, { count: l.count, sum: l.meanMs * l.count }]));
    const mean = (operation: string): number | null => {
      const now = totals?.get(operation);
      if (!now || !this.last) return null;
      const before = this.last.get(operation);
      // A restarted daemon counts from zero again: all it counts is new.
      const delta = before && now.count >= before.count ? { count: now.count - before.count, sum: now.sum - before.sum } : now;
      return delta.count > 0 ? delta.sum / delta.count : null;
    };
    s.fetched.push(summary?.bytesFetched ?? null);
    s.layerBytes.push(summary?.layerBytes ?? null);
    s.registryFetches.push(summary?.registryFetches ?? null);
    s.registryMs.push(mean(this.names.registryGet));
    for (const op of this.names.fuseOperations) s.fuseMs[op]!.push(mean(op));
    const downloads = this.names.backgroundDownloads;
    s.background.push(summary?.backgroundFetches ?? (summary && downloads ? (totals?.get(downloads)?.count ?? 0) : null));
    this.last = totals;
    const excess = s.t.length - MAX_SAMPLES;
    if (excess > 0) for (const column of [s.t, ...columns(s)]) column.splice(0, excess);
  }
}

function emptySeries(names: MetricNames): DashboardSeries {
  return { t: [], fetched: [], layerBytes: [], registryFetches: [], registryMs: [], fuseMs: Object.fromEntries(names.fuseOperations.map((op) => [op, []])), background: [] };
}

function columns(s: DashboardSeries): Column[] {
  return [s.fetched, s.layerBytes, s.registryFetches, s.registryMs, s.background, ...Object.values(s.fuseMs)];
}

/** Saved state comes back from the webview: it is used only when every column is numbers of one length. */
function isSeries(value: unknown, names: MetricNames): value is DashboardSeries {
  const s = value as DashboardSeries | undefined;
  if (typeof s !== 'object' || s === null || !Array.isArray(s.t) || typeof s.fuseMs !== 'object' || s.fuseMs === null) return false;
  const n = s.t.length;
  const fuse = Object.keys(s.fuseMs);
  if (n > MAX_SAMPLES || !s.t.every((x) => typeof x === 'number') || fuse.join() !== names.fuseOperations.join()) return false;
  return columns(s).every((c) => Array.isArray(c) && c.length === n && c.every((x) => x === null || typeof x === 'number'));
}
