// Everything about one daemon on this machine, in one answer: installed and which version,
// systemd or not, answering on its socket or why not, its config's problems, its metrics, and
// what to do next. Each part is checked, none assumed, and each check has a deadline.
import { describeError } from '../errors.js';
import { readDaemonConfig, type DaemonConfig } from './config.js';
import { detectDaemon, type InstalledDaemon } from './detect.js';
import { checkHealth, type Health } from './health.js';
import { readMetrics, type MetricsSummary } from './metrics.js';
import type { SnapshotterProfile } from './profiles.js';
import { unitExists, unitState } from './systemd.js';

export type MetricsState =
  | { state: 'off' }
  | { state: 'ok'; address: string; summary: MetricsSummary }
  | { state: 'down'; address: string; message: string };

export interface SnapshotterStatus {
  kind: SnapshotterProfile['kind'];
  installed: InstalledDaemon | undefined;
  systemd: { unit: string; state: string } | undefined;
  socket: string;
  config: DaemonConfig;
  health: Health;
  metrics: MetricsState;
  /** What to do next, most useful first. */
  suggestions: string[];
}

export interface StatusOptions {
  socket?: string;
  config?: string;
  /** Where to look for the binary besides PATH. */
  binaryPaths?: readonly string[];
  timeoutMs?: number;
}

export async function snapshotterStatus(profile: SnapshotterProfile, options: StatusOptions = {}): Promise<SnapshotterStatus> {
  const socket = options.socket ?? profile.socket;
  const [installed, hasUnit, config, health] = await Promise.all([
    detectDaemon(profile, options.binaryPaths),
    unitExists(profile.unit),
    readDaemonConfig(profile, options.config ?? profile.config),
    checkHealth(socket, { timeoutMs: options.timeoutMs }),
  ]);
  const systemd = hasUnit ? { unit: profile.unit, state: await unitState(profile.unit) } : undefined;
  let metrics: MetricsState = { state: 'off' };
  if (config.metricsAddress !== undefined) {
    const network = config.values.metrics_network === 'unix' ? 'unix' : 'tcp';
    try {
      metrics = { state: 'ok', address: config.metricsAddress, summary: await readMetrics(profile, { address: config.metricsAddress, network, timeoutMs: options.timeoutMs }) };
    } catch (e) {
      metrics = { state: 'down', address: config.metricsAddress, message: describeError(e) };
    }
  }
  return { kind: profile.kind, installed, systemd, socket, config, health, metrics, suggestions: suggest(profile, { installed, systemd, config, health, metrics }) };
}

function suggest(profile: SnapshotterProfile, s: Pick<SnapshotterStatus, 'installed' | 'systemd' | 'config' | 'health' | 'metrics'>): string[] {
  const out: string[] = [];
  if (s.installed === undefined) out.push(`${profile.binary} is not installed: ${profile.hint}`);
  const error = s.config.problems.find((p) => p.severity === 'error');
  if (error) out.push(`fix ${s.config.file}${error.line === undefined ? '' : ` at line ${error.line}`}: the daemon will not start with it`);
  if (!s.health.healthy && s.installed !== undefined) {
    if (s.systemd) out.push(`start it: sudo systemctl start ${s.systemd.unit} (logs: journalctl -u ${s.systemd.unit} -e)`);
    else out.push(`start one of your own: lazyimg snapshotter start ${profile.kind} --dir <folder>`);
  }
  if (s.metrics.state === 'off') out.push(`to see what is fetched lazily, set metrics_address = "127.0.0.1:<port>" in ${s.config.file}`);
  if (s.metrics.state === 'down') out.push(`the metrics endpoint ${s.metrics.address} does not answer: is the daemon running with ${s.config.file}?`);
  return out;
}
