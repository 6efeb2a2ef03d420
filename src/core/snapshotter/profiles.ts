// What differs between the two remote snapshotter daemons: names, default paths (upstream's,
// from each daemon's main.go and shipped systemd unit) and the metric names of their summaries.

export type SnapshotterKind = 'stargz' | 'soci';

export const SNAPSHOTTER_KINDS: readonly SnapshotterKind[] = ['stargz', 'soci'];

/** TOML value kinds the config checks expect. */
export type TomlKind = 'string' | 'boolean' | 'integer' | 'table';

export interface SnapshotterProfile {
  kind: SnapshotterKind;
  /** The daemon's executable name. */
  binary: string;
  /** `--address` default. */
  socket: string;
  /** `--root` default. */
  root: string;
  /** `--config` default; a missing file there means every default. */
  config: string;
  /** The systemd unit upstream ships. */
  unit: string;
  /** Neither daemon serves metrics unless `metrics_address` is set. */
  metricsAddress: undefined;
  /** How to get the daemon when it is missing. */
  hint: string;
  /** The keys this tool relies on, by dotted path, with the type the daemon decodes them into. */
  keys: Readonly<Record<string, TomlKind>>;
  /** Every top-level key the daemon reads; others are ignored by it, so probably typos. */
  topLevel: readonly string[];
  /** Allowed values of string keys that take a closed set. */
  choices: Readonly<Record<string, readonly string[]>>;
  /** The Prometheus namespace and subsystem of its filesystem metrics. */
  metricsPrefix: string;
  /** `operation_type` values of the summary's figures. */
  metrics: {
    bytesServed: string;
    reads: string;
    registryFetches: string;
    backgroundFetches?: string;
    backgroundFetchFailures?: string;
    /** The timed operation of a registry fetch (a histogram in milliseconds). */
    registryGet: string;
    /** The timed FUSE operations (the histogram in microseconds): what a reader of the mount waits for. */
    fuseOperations: readonly string[];
    /** A background download, counted only as a timed operation (stargz has no counter for it). */
    backgroundDownloads?: string;
  };
}

const STARGZ: SnapshotterProfile = {
  kind: 'stargz',
  binary: 'containerd-stargz-grpc',
  socket: '/run/containerd-stargz-grpc/containerd-stargz-grpc.sock',
  root: '/var/lib/containerd-stargz-grpc',
  config: '/etc/containerd-stargz-grpc/config.toml',
  unit: 'stargz-snapshotter.service',
  metricsAddress: undefined,
  hint: 'install containerd-stargz-grpc from a stargz-snapshotter release, or build it (see specs/snapshotters.md)',
  keys: {
    metrics_address: 'string',
    no_prometheus: 'boolean',
    debug_address: 'string',
    metadata_store: 'string',
    noprefetch: 'boolean',
    no_background_fetch: 'boolean',
    prefetch_size: 'integer',
    prefetch_timeout_sec: 'integer',
    max_concurrency: 'integer',
    blob: 'table',
    directory_cache: 'table',
    'directory_cache.direct': 'boolean',
    fuse: 'table',
    resolver: 'table',
    fuse_manager: 'table',
    'fuse_manager.enable': 'boolean',
  },
  topLevel: [
    'http_cache_type', 'filesystem_cache_type', 'resolve_result_entry_ttl_sec', 'resolve_result_entry', 'prefetch_size',
    'prefetch_timeout_sec', 'prefetch_async_size', 'noprefetch', 'no_background_fetch', 'debug', 'allow_no_verification',
    'disable_verification', 'max_concurrency', 'no_prometheus', 'log_file_access', 'blob', 'directory_cache', 'fuse',
    'kubeconfig_keychain', 'cri_keychain', 'resolver', 'snapshotter', 'metrics_address', 'debug_address', 'ipfs',
    'metadata_store', 'fuse_manager',
  ],
  choices: { metadata_store: ['memory', 'db'] },
  metricsPrefix: 'stargz_fs',
  metrics: {
    bytesServed: 'on_demand_bytes_served',
    reads: 'on_demand_read_access_count',
    registryFetches: 'on_demand_remote_registry_fetch_count',
    registryGet: 'remote_registry_get',
    fuseOperations: ['read_on_demand', 'node_readdir'],
    backgroundDownloads: 'background_fetch_download',
  },
};

const SOCI: SnapshotterProfile = {
  kind: 'soci',
  binary: 'soci-snapshotter-grpc',
  socket: '/run/soci-snapshotter-grpc/soci-snapshotter-grpc.sock',
  root: '/var/lib/soci-snapshotter-grpc',
  config: '/etc/soci-snapshotter-grpc/config.toml',
  unit: 'soci-snapshotter.service',
  metricsAddress: undefined,
  hint: 'install soci-snapshotter-grpc from a soci-snapshotter release, or build it (see specs/snapshotters.md)',
  keys: {
    metrics_address: 'string',
    metrics_network: 'string',
    no_prometheus: 'boolean',
    debug_address: 'string',
    metadata_store: 'string',
    max_concurrency: 'integer',
    mount_timeout_sec: 'integer',
    pull_modes: 'table',
    'pull_modes.soci_v1': 'table',
    'pull_modes.soci_v1.enable': 'boolean',
    'pull_modes.soci_v2': 'table',
    'pull_modes.soci_v2.enable': 'boolean',
    'pull_modes.parallel_pull_unpack': 'table',
    'pull_modes.parallel_pull_unpack.enable': 'boolean',
    background_fetch: 'table',
    'background_fetch.disable': 'boolean',
    'background_fetch.silence_period_msec': 'integer',
    'background_fetch.fetch_period_msec': 'integer',
    'background_fetch.max_queue_size': 'integer',
    'background_fetch.drop_policy': 'string',
    content_store: 'table',
    'content_store.type': 'string',
    'content_store.containerd_address': 'string',
    directory_cache: 'table',
    fuse: 'table',
    resolver: 'table',
    prefetch: 'table',
    'prefetch.enable': 'boolean',
    'prefetch.max_concurrency': 'integer',
  },
  topLevel: [
    'http_cache_type', 'filesystem_cache_type', 'resolve_result_entry', 'debug', 'disable_verification', 'max_concurrency',
    'no_prometheus', 'mount_timeout_sec', 'fuse_metrics_emit_wait_duration_sec', 'http', 'blob', 'directory_cache', 'fuse',
    'background_fetch', 'content_store', 'prefetch', 'pull_modes', 'kubeconfig_keychain', 'cri_keychain', 'resolver',
    'snapshotter', 'metrics_address', 'metrics_network', 'debug_address', 'metadata_store', 'metadata_db_no_sync',
    'metadata_insertion_chunk_size', 'skip_check_snapshotter_supported',
  ],
  choices: {
    metrics_network: ['tcp', 'unix'],
    metadata_store: ['db', 'db-multi'],
    'content_store.type': ['soci', 'containerd'],
    'background_fetch.drop_policy': ['newest', 'oldest'],
  },
  metricsPrefix: 'soci_fs',
  metrics: {
    bytesServed: 'synchronous_bytes_served',
    reads: 'synchronous_read_count',
    registryFetches: 'synchronous_read_remote_registry_fetch_count',
    backgroundFetches: 'background_span_fetch_count',
    backgroundFetchFailures: 'background_span_fetch_failure_count',
    registryGet: 'remote_registry_get',
    fuseOperations: ['synchronous_read', 'node_readdir'],
  },
};

export const PROFILES: Readonly<Record<SnapshotterKind, SnapshotterProfile>> = { stargz: STARGZ, soci: SOCI };

export function isSnapshotterKind(value: string): value is SnapshotterKind {
  return value === 'stargz' || value === 'soci';
}
