// What the snapshotter dashboard's webview is sent: one daemon's state, its checks, its remote
// snapshots and the history of its metrics, kept by the host. Types only, with no imports, so the
// webview's bundle can share them.

/** One value per sample; null where the sample has none (the daemon was down, nothing happened). */
export type Column = (number | null)[];

/** The metrics' history, as columns over the sample times (uPlot's data layout). */
export interface DashboardSeries {
  /** When each sample was read, in seconds since the epoch (uPlot's time scale). */
  t: number[];
  /** Compressed bytes fetched from the registry, and the size of the mounted layers: cumulative. */
  fetched: Column;
  layerBytes: Column;
  /** Registry fetches, cumulative, and their mean latency (ms) since the sample before. */
  registryFetches: Column;
  registryMs: Column;
  /** Each timed FUSE operation's mean latency (ms) since the sample before. */
  fuseMs: Record<string, Column>;
  /** Background fetches (soci: spans; stargz: downloads), cumulative. */
  background: Column;
}

export type DaemonCondition = 'running' | 'unhealthy' | 'stopped' | 'not installed' | 'unknown';

export interface DashboardCheck {
  name: string;
  /** `off`: not a failure, nothing to check (no metrics endpoint set). */
  result: 'ok' | 'failed' | 'off';
  detail: string;
}

export interface DashboardData {
  kind: 'stargz' | 'soci';
  condition: DaemonCondition;
  /** A start, stop or restart under way. */
  busy?: string;
  /** When the status shown was read, ms since the epoch. */
  readAt?: number;
  /** How often it is read while the dashboard shows. */
  refreshMs: number;
  mode: 'managed' | 'systemd';
  version?: string;
  binary?: string;
  socket: string;
  config: string;
  pid?: number;
  /** When the daemon's process started, ms since the epoch. */
  startedAt?: number;
  checks: DashboardCheck[];
  /** The last failed check, and when it failed (ms since the epoch). */
  lastError?: { message: string; at: number };
  /** The metrics endpoint, when one is set. */
  metricsAddress?: string;
  /** The mounted layers, by digest: how much of each was fetched. */
  layers: { digest: string; size: number; fetched: number }[];
  /** The daemon's remote snapshots, as containerd labelled them. */
  snapshots: { key: string; kind: string; image?: string; layer?: string }[];
  series: DashboardSeries;
}
