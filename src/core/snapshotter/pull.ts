// A pull through containerd with the labels the daemon needs (stargz: ctr-remote rpull; soci:
// containerd v2's transfer service, `ctr images pull --snapshotter soci`), then, per layer, what
// really happened, set against what laziness() predicted: a difference is a silent fallback.
// Reality comes from the daemon's own log (a remote snapshot prepared or not, and why), the FUSE
// mount it logged, its metrics (bytes fetched at that mount) and containerd's snapshot (the
// remote label, shown but not decisive: soci puts it on layers it fetched whole itself).
// At the daemons' default log level the mount comes from the metrics instead.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { imageLaziness, lazinessFor } from '../image/index.js';
import type { ImageStore } from '../oci/index.js';
import { findBinary } from './detect.js';
import { REMOTE_LABEL } from './health.js';
import { layerDecision, parseLogEntries, readLogSince } from './layerLog.js';
import { parseMountInfo, type MountInfo } from './mounts.js';
import { readMetrics } from './metrics.js';
import { PROFILES, type SnapshotterKind } from './profiles.js';

const PULL_TIMEOUT_MS = 30 * 60_000;
const TOOL_TIMEOUT_MS = 30_000;

export interface PullOptions {
  /** The reference containerd pulls. */
  ref: string;
  /** The store and tag or digest of the same image, for the prediction. */
  store: ImageStore;
  tagOrDigest: string | undefined;
  snapshotter: SnapshotterKind;
  /** containerd's socket and namespace. */
  containerd: string;
  namespace: string;
  /** The daemon's log (default: none read); its metrics address (default: none scraped). */
  logFile?: string;
  /** The daemon's root: a layer's FUSE mount counts only under it (default: any FUSE mount). */
  daemonRoot?: string;
  metricsAddress?: string;
  /** How the metrics address is dialled: soci's `metrics_network = "unix"` makes it a socket path (default tcp). */
  metricsNetwork?: 'tcp' | 'unix';
  plainHttp?: boolean;
  /** The client binaries (default: found on PATH). */
  ctr?: string;
  ctrRemote?: string;
  signal?: AbortSignal;
}

export type LayerOutcome = 'remote' | 'downloaded' | 'unknown';

export interface PulledLayer {
  index: number;
  digest: string;
  size: number;
  /** containerd's key of the layer's committed snapshot. */
  chainId: string;
  predicted: { lazy: boolean; text: string };
  /**
   * remote: mounted lazily (the daemon logged a remote snapshot; without its log, containerd's
   * remote label); downloaded: by containerd, or whole by the daemon itself; unknown: no sign.
   */
  outcome: LayerOutcome;
  /** `remote-snapshot-prepared` as the daemon logged it for this layer. */
  prepared: boolean | undefined;
  /** containerd's snapshot carries `containerd.io/snapshot/remote`; undefined when there is no snapshot. */
  remoteLabel: boolean | undefined;
  /** The daemon's log lines about not mounting it lazily. */
  reasons: string[];
  /** What the signs say beyond that: a local snapshot, a label that disagrees with the daemon. */
  notes: string[];
  /** The layer's FUSE mount, when the daemon logged one (or its metrics name one) that is mounted now. */
  mountPoint: string | undefined;
  /** Compressed bytes of the layer fetched at that mount, from the daemon's metrics. */
  fetched: number | undefined;
  /** Set when reality and the prediction differ: the silent fallback (or a surprise), in words. */
  mismatch: string | undefined;
}

export interface PullReport {
  ref: string;
  snapshotter: SnapshotterKind;
  image: string;
  command: string[];
  /** Set when the pull itself failed: what the client said. */
  failed: string | undefined;
  /** Why there are no metrics figures, when there are none. */
  metricsNote: string | undefined;
  layers: PulledLayer[];
}

/** containerd's chain IDs (the committed snapshots' keys) from the config's diff IDs. */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    const previous = out.at(-1);
    out.push(previous === undefined ? diffId : `sha256:${createHash('sha256').update(`${previous} ${diffId}`).digest('hex')}`);
  }
  return out;
}

function run(binary: string, args: string[], timeout: number, signal?: AbortSignal): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout, signal, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ ok: !error, stdout: `${stdout}`, stderr: `${stderr}`.trim() || (error ? error.message : '') });
    });
  });
}

/** Why the client failed: its own error lines (`ctr: ...`), not its progress bars; else its last lines. */
function failure(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const own = lines.filter((l) => /^(ctr|ctr-remote): /.test(l));
  return (own.length > 0 ? own : lines.slice(-3)).join('\n');
}

async function client(name: 'ctr' | 'ctr-remote', given: string | undefined): Promise<string> {
  const found = given ?? (await findBinary({ binary: name }));
  if (found === undefined) throw new LazyImageError('NOT_FOUND', `Cannot find ${name} on PATH: install it (containerd v2's ctr; ctr-remote from stargz-snapshotter), or give --${name} <path>`);
  return found;
}

/**
 * The major version `ctr --version` prints ("ctr github.com/containerd/containerd 1.6.20~ds1"),
 * or undefined when it prints none.
 */
export function ctrMajor(versionLine: string): number | undefined {
  const m = /\sv?(\d+)\.\d+/.exec(versionLine);
  return m ? Number(m[1]) : undefined;
}

/**
 * containerd 1.x's ctr unpacks on the client side, so soci-snapshotter never gets the image's
 * labels and downloads every layer: refused before it runs, rather than found as a fallback after.
 */
async function requireTransferClient(binary: string, signal?: AbortSignal): Promise<void> {
  const version = await run(binary, ['--version'], TOOL_TIMEOUT_MS, signal);
  const major = ctrMajor(version.stdout);
  if (major !== undefined && major < 2) {
    throw new LazyImageError('UNSUPPORTED', `${binary} is containerd ${version.stdout.trim().split(/\s+/).pop()}'s ctr: soci needs containerd v2's ctr, whose transfer service passes the daemon the image's labels (with this one every layer would be downloaded). Give a v2 ctr: lazyimg pull --ctr <path>, or the setting lazyImages.snapshotters.containerd.ctr`);
  }
}

/** containerd's own view of the snapshot, through the same client: does it carry the remote label? */
async function snapshotIsRemote(binary: string, base: string[], kind: SnapshotterKind, chainId: string, signal?: AbortSignal): Promise<boolean | undefined> {
  const info = await run(binary, [...base, 'snapshots', '--snapshotter', kind, 'info', chainId], TOOL_TIMEOUT_MS, signal);
  if (!info.ok) return undefined;
  try {
    return Object.hasOwn((JSON.parse(info.stdout) as { Labels?: Record<string, string> }).Labels ?? {}, REMOTE_LABEL);
  } catch {
    return undefined;
  }
}

/** The FUSE mount points of this machine (mountinfo) under `under` (any when undefined); none when it cannot be read. */
async function fuseMounts(under: string | undefined): Promise<Set<string>> {
  let mounts: MountInfo[];
  try {
    mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).filter((m) => m.fsType.startsWith('fuse'));
  } catch {
    return new Set();
  }
  return new Set(mounts.map((m) => m.mountPoint).filter((m) => under === undefined || m.startsWith(`${under}/`)));
}

/**
 * A lazy layer's mount: the one the daemon logged, if it is mounted. At info level soci logs it
 * for the first layer only; then the mount the daemon's metrics name for the layer's digest, or,
 * when the layer was mounted before too, the one this pull added.
 */
export function layerMount(logged: string | undefined, byMount: Record<string, number> | undefined, live: Set<string>, before: Set<string>): string | undefined {
  if (logged !== undefined) return live.has(logged) ? logged : undefined;
  const named = Object.keys(byMount ?? {}).filter((m) => live.has(m));
  const added = named.filter((m) => !before.has(m));
  return named.length === 1 ? named[0] : added.length === 1 ? added[0] : undefined;
}

/** Pulls through containerd and reports per layer what happened and whether it is what was predicted. */
export async function pullLazily(options: PullOptions): Promise<PullReport> {
  const { snapshotter: kind, signal } = options;
  const predicted = await imageLaziness(options.store, options.tagOrDigest, { signal });
  const diffIds = predicted.config?.rootfs.diff_ids ?? [];
  if (diffIds.length !== predicted.layers.length) {
    throw new LazyImageError('INVALID_FORMAT', `Cannot pull ${options.ref} lazily: its config lists ${diffIds.length} diff IDs for ${predicted.layers.length} layers`, { ref: options.ref });
  }
  const chains = chainIds(diffIds);
  const binary = kind === 'stargz' ? await client('ctr-remote', options.ctrRemote) : await client('ctr', options.ctr);
  if (kind === 'soci') await requireTransferClient(binary, signal);
  const base = ['-a', options.containerd, '-n', options.namespace];
  const http = options.plainHttp ? ['--plain-http'] : [];
  const args = kind === 'stargz' ? [...base, 'images', 'rpull', ...http, options.ref] : [...base, 'images', 'pull', ...http, '--snapshotter', 'soci', options.ref];

  const under = options.daemonRoot?.replace(/\/+$/, '');
  const logStart = options.logFile ? await stat(options.logFile).then((s) => s.size, () => 0) : 0;
  const mountedBefore = await fuseMounts(under);
  const pulled = await run(binary, args, PULL_TIMEOUT_MS, signal);
  // The client was stopped: what containerd holds now is no answer to this pull.
  throwIfAborted(signal, options.ref);
  const entries = options.logFile ? parseLogEntries(await readLogSince(options.logFile, logStart)) : [];

  let metricsNote: string | undefined = options.metricsAddress ? undefined : 'no metrics address given: bytes fetched unknown';
  const fetchedByMount = new Map<string, Record<string, number>>();
  if (options.metricsAddress) {
    try {
      for (const l of (await readMetrics(PROFILES[kind], { address: options.metricsAddress, network: options.metricsNetwork, signal })).layers) fetchedByMount.set(l.layer, l.fetchedByMount);
    } catch (e) {
      metricsNote = `metrics unreadable: ${(e as Error).message}`;
    }
  }
  const fuse = await fuseMounts(under);
  const layers: PulledLayer[] = [];
  for (const [i, layer] of predicted.layers.entries()) {
    const chainId = chains[i]!;
    const digest = layer.descriptor.digest;
    const remoteLabel = await snapshotIsRemote(binary, base, kind, chainId, signal);
    const log = layerDecision(entries, chainId, digest);
    // The daemon's word wins over the label: soci labels a layer it fetched whole itself (a local
    // snapshot) remote as well. Without its log, the label is what there is.
    const outcome: LayerOutcome = log.prepared !== undefined
      ? (log.prepared ? 'remote' : 'downloaded')
      : remoteLabel === undefined ? 'unknown' : remoteLabel ? 'remote' : 'downloaded';
    const byMount = fetchedByMount.get(digest);
    const mountPoint = outcome === 'remote' ? layerMount(log.mountPoint, byMount, fuse, mountedBefore) : undefined;
    const notes: string[] = [];
    if (log.local) notes.push('the daemon fetched the whole layer and unpacked it itself (a local snapshot, no FUSE mount)');
    if (remoteLabel === true && outcome === 'downloaded') notes.push(`containerd's snapshot is labelled ${REMOTE_LABEL} all the same`);
    if (remoteLabel === false && outcome === 'remote') notes.push(`containerd's snapshot has no ${REMOTE_LABEL} label`);
    const reasons = outcome === 'remote' ? [] : log.reasons;
    const expected = lazinessFor(layer, kind);
    const fetched = metricsNote !== undefined || outcome !== 'remote' ? undefined : mountPoint !== undefined ? byMount?.[mountPoint] ?? 0 : undefined;
    const mismatch = outcome === 'unknown' || expected.lazy === (outcome === 'remote')
      ? undefined
      : expected.lazy ? `predicted ${expected.text}, but it was downloaded: a silent fallback` : `predicted "${expected.text}", but it was mounted lazily`;
    layers.push({ index: layer.index, digest, size: layer.descriptor.size, chainId, predicted: expected, outcome, prepared: log.prepared, remoteLabel, reasons, notes, mountPoint, fetched, mismatch });
  }
  return { ref: options.ref, snapshotter: kind, image: predicted.image.digest, command: [binary, ...args], failed: pulled.ok ? undefined : failure(pulled.stderr), metricsNote, layers };
}
