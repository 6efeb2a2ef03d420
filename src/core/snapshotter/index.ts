// The remote snapshotter daemons (stargz, soci) on this machine: profiles, detection, config
// checks, containerd wiring, control (managed or systemd), health over gRPC, metrics, and lazy pulls
// with a per-layer report.
export { PROFILES, SNAPSHOTTER_KINDS, isSnapshotterKind, type SnapshotterKind, type SnapshotterProfile } from './profiles.js';
export { detectDaemon, findBinary, parseVersionOutput, readVersion, type DaemonVersion, type InstalledDaemon } from './detect.js';
export { checkDaemonConfig, readDaemonConfig, type DaemonConfig } from './config.js';
export { formatProblem, type ConfigProblem } from './problems.js';
export { CONTAINERD_CONFIG, checkContainerdConfig, hostPlatform, readContainerdConfig, type ContainerdWiring, type WiringTarget } from './containerd.js';
export { managedPaths, restartDaemon, runningPid, socketListening, startDaemon, stopDaemon, type ManagedDaemon, type ManagedOptions, type ManagedPaths, type StartOptions, type StopResult } from './managed.js';
export { controlUnit, followJournal, systemctlCommand, systemdRunning, unitExists, unitMainPid, unitState, type UnitAction } from './systemd.js';
export { processStartedAt } from './process.js';
export { followFile, lastLoggedError, logTail } from './logs.js';
export { fuseMountsUnder, parseMountInfo, unmountFuseUnder, type MountInfo } from './mounts.js';
export { checkHealth, REMOTE_LABEL, type Health, type SnapshotSummary, type UnhealthyReason } from './health.js';
export { SNAPSHOTS_DESCRIPTOR, SNAPSHOTS_SERVICE, snapshotsPackage } from './snapshotsApi.js';
export { parsePrometheusText, type MetricFamily, type MetricType, type Sample } from './prometheus.js';
export { readMetrics, scrapeMetrics, summarizeMetrics, type Latency, type LayerFigures, type MetricsSummary, type ScrapeOptions } from './metrics.js';
export { snapshotterStatus, type MetricsState, type SnapshotterStatus, type StatusOptions } from './status.js';
export { layerDecision, parseLogEntries, type LayerDecision, type LogEntry } from './layerLog.js';
export { chainIds, ctrMajor, layerMount, pullLazily, type LayerOutcome, type PullOptions, type PullReport, type PulledLayer } from './pull.js';
export { renderPull, summarizePull, type PullSummary } from './pullText.js';
