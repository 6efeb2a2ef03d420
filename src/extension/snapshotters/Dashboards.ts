// The snapshotter dashboard: a webview panel per daemon with its state, its checks, charts of its
// metrics and its remote snapshots. It reads nothing itself: while its panel is visible it asks
// Snapshotters for the daemon's status (the timer the tree and status bar share), and each new
// status adds a sample to a history kept here, so the charts outlive a hidden webview.
import * as vscode from 'vscode';
import { count } from '../../core/format.js';
import type { SnapshotterKind, SnapshotterProfile } from '../../core/snapshotter/index.js';
import type { DashboardCheck, DashboardData } from '../webviews/dashboardData.js';
import type { ActionMessage } from '../webviews/protocol.js';
import type { ReportKind, ReportPanel } from '../webviews/ReportPanel.js';
import { ReportPanels } from '../webviews/ReportPanels.js';
import { MetricsHistory } from './MetricsHistory.js';
import { daemonCondition, isKind, POLL_MS, snapshotImage, snapshotLayer, type DaemonState, type Snapshotters } from './Snapshotters.js';

export const DASHBOARD: ReportKind = { viewType: 'lazyImages.snapshotterDashboard', bundle: 'dashboard' };

/** The dashboard's buttons: each runs the command of the daemon's tree row. */
const ACTIONS = new Map([
  ['start', 'lazyImages.startSnapshotter'],
  ['stop', 'lazyImages.stopSnapshotter'],
  ['restart', 'lazyImages.restartSnapshotter'],
  ['config', 'lazyImages.openSnapshotterConfig'],
  ['logs', 'lazyImages.showSnapshotterLogs'],
]);

export function dashboardTitle(kind: SnapshotterKind): string {
  return `Snapshotter: ${kind}`;
}

export class Dashboards implements vscode.Disposable {
  private readonly panels: ReportPanels<DashboardData>;
  private readonly open = new Set<Dashboard>();

  constructor(extensionUri: vscode.Uri, private readonly snapshotters: Snapshotters, private readonly log: vscode.LogOutputChannel) {
    this.panels = new ReportPanels<DashboardData>(extensionUri, DASHBOARD, (d) => d.kind, (panel, saved) => {
      // The saved state is the webview's: only a known daemon's is taken back.
      if (saved && isKind(saved.kind)) void this.attach(panel, saved.kind, saved.series);
      else panel.dispose();
    });
  }

  /** Opens the daemon's dashboard, or brings its open one to the front. */
  async show(kind: SnapshotterKind): Promise<void> {
    const known = this.panels.get(kind);
    const panel = this.panels.open(kind, dashboardTitle(kind));
    if (!known) await this.attach(panel, kind, undefined);
  }

  private async attach(panel: ReportPanel<DashboardData>, kind: SnapshotterKind, saved: unknown): Promise<void> {
    const profile = (await this.snapshotters.load()).PROFILES[kind];
    const dashboard = new Dashboard(panel, profile, this.snapshotters, this.log, saved);
    this.open.add(dashboard);
    panel.onDidDispose(() => {
      dashboard.dispose();
      this.open.delete(dashboard);
    });
  }

  /** The panels stay open: VS Code restores them at the next activation. */
  dispose(): void {
    for (const d of this.open) d.dispose();
    this.panels.dispose();
  }
}

class Dashboard implements vscode.Disposable {
  private readonly kind: SnapshotterKind;
  private readonly history: MetricsHistory;
  /** The status (or the error) last sampled: each read is sampled once. */
  private sampled: unknown;
  private readAt: number | undefined;
  private lastError: DashboardData['lastError'];
  private process: { pid: number; startedAt: number | undefined } | undefined;
  private watching = false;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly panel: ReportPanel<DashboardData>, profile: SnapshotterProfile, private readonly snapshotters: Snapshotters, private readonly log: vscode.LogOutputChannel, saved: unknown) {
    this.kind = profile.kind;
    this.history = new MetricsHistory(profile.metrics, saved);
    this.subscriptions = [
      snapshotters.onDidChange((kind) => kind === this.kind && void this.update()),
      panel.onDidChangeVisibility(() => this.watch()),
      panel.onAction((a) => this.act(a)),
    ];
    this.watch();
    void this.update();
  }

  /** Statuses are read on the timer only while the panel shows; shown again, it reads at once. */
  private watch(): void {
    const visible = this.panel.visible;
    if (visible === this.watching) return;
    this.watching = visible;
    this.snapshotters.want(`dashboard:${this.kind}`, visible ? [this.kind] : []);
    this.log.info(`Snapshotter dashboard (${this.kind}): ${visible ? `refreshed every ${POLL_MS / 1000} s` : 'hidden: not refreshed'}`);
    if (visible) void this.snapshotters.read(this.kind);
  }

  private async update(): Promise<void> {
    const state = this.snapshotters.state(this.kind);
    if (!state) return;
    const read = state.status ?? state.error;
    if (read !== undefined && read !== this.sampled) {
      this.sampled = read;
      this.readAt = Date.now();
      const s = state.status;
      this.history.add(this.readAt / 1000, s?.metrics.state === 'ok' ? s.metrics.summary : undefined);
      const failed = checks(state).find((c) => c.result === 'failed');
      if (failed) this.lastError = { message: `${failed.name}: ${failed.detail}`, at: this.readAt };
      // The process is looked up only for a panel that shows: a hidden one does no work.
      if (!s?.health.healthy) this.process = undefined;
      else if (this.panel.visible) this.process = await this.snapshotters.process(this.kind).catch(() => undefined);
    }
    // The latest state, which may have moved on while the process was read.
    const latest = this.snapshotters.state(this.kind);
    if (latest) this.panel.show(this.data(latest), dashboardTitle(this.kind));
  }

  private data(state: DaemonState): DashboardData {
    const s = state.status;
    const summary = s?.metrics.state === 'ok' ? s.metrics.summary : undefined;
    const remote = s?.health.healthy ? s.health.snapshots.filter((x) => x.remote) : [];
    return {
      kind: this.kind,
      condition: daemonCondition(state),
      busy: state.busy,
      readAt: this.readAt,
      refreshMs: POLL_MS,
      mode: state.place.mode,
      version: s?.installed && (s.installed.version ?? `unknown (${s.installed.raw})`),
      binary: s?.installed?.path ?? state.place.binary,
      socket: state.place.socket,
      config: state.place.config,
      pid: this.process?.pid,
      startedAt: this.process?.startedAt,
      checks: checks(state),
      lastError: this.lastError,
      metricsAddress: s && s.metrics.state !== 'off' ? s.metrics.address : undefined,
      layers: summary?.layers.map((l) => ({ digest: l.layer, size: l.size, fetched: l.fetched })) ?? [],
      snapshots: remote.map((x) => ({ key: x.key, kind: x.kind, image: snapshotImage(x.labels), layer: snapshotLayer(x.labels) })),
      series: this.history.series,
    };
  }

  /** A button: only the names above, on this daemon. */
  private act({ action }: ActionMessage): void {
    const command = ACTIONS.get(action);
    if (command) void vscode.commands.executeCommand(command, { kind: 'snapshotter', daemon: this.kind });
  }

  dispose(): void {
    this.snapshotters.want(`dashboard:${this.kind}`, []);
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }
}

/** What was checked at the last read: the daemon's API, its metrics endpoint, its config, its unit. */
function checks(state: DaemonState): DashboardCheck[] {
  const s = state.status;
  if (!s) return state.error ? [{ name: 'Status', result: 'failed', detail: state.error }] : [];
  const h = s.health;
  const m = s.metrics;
  const problems = s.config.problems.map((p) => `${p.line === undefined ? '' : `line ${p.line}: `}${p.message}`);
  return [
    { name: 'Snapshots API', result: h.healthy ? 'ok' : 'failed', detail: h.healthy ? `List answered in ${h.latencyMs} ms with ${count(h.snapshots.length, 'snapshot')}` : h.message },
    { name: 'Metrics', result: m.state === 'ok' ? 'ok' : m.state === 'down' ? 'failed' : 'off', detail: m.state === 'ok' ? `${m.address} answered` : m.state === 'down' ? m.message : `off: set metrics_address in ${s.config.file}` },
    { name: 'Config', result: s.config.problems.some((p) => p.severity === 'error') ? 'failed' : 'ok', detail: !s.config.exists ? 'none: the defaults' : problems.join('; ') || 'no problems' },
    ...(s.systemd ? [{ name: 'systemd', result: s.systemd.state === 'active' ? 'ok' as const : 'failed' as const, detail: `${s.systemd.unit}: ${s.systemd.state}` }] : []),
  ];
}
