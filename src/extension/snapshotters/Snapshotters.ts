// The remote snapshotter daemons as the editor sees them: where each one lives (from the
// machine-scoped settings), its last status, and start, stop and restart. The core snapshotter
// code, and grpc-js with it, is loaded on the first read, never at activation. Statuses are
// read again every few seconds only while something that shows them is visible (see `want`).
import { join } from 'node:path';
import * as vscode from 'vscode';
import { describeError, LazyImageError } from '../../core/errors.js';
import type * as Core from '../../core/snapshotter/index.js';
import type { SnapshotterKind, SnapshotterStatus } from '../../core/snapshotter/index.js';
import type { DaemonCondition } from '../webviews/dashboardData.js';

export const SNAPSHOTTER_KINDS: readonly SnapshotterKind[] = ['stargz', 'soci'];
export const POLL_MS = 5000;

export function isKind(value: string): value is SnapshotterKind {
  return value === 'stargz' || value === 'soci';
}

type CoreModule = typeof Core;

/**
 * Not installed, running (it answers), unhealthy (it does not, but something holds its socket or
 * systemd says it runs), or stopped.
 */
export function daemonCondition(state: DaemonState | undefined): DaemonCondition {
  const s = state?.status;
  if (!s) return 'unknown';
  if (s.health.healthy) return 'running';
  if (!s.installed) return 'not installed';
  return s.systemd?.state === 'active' || ['timeout', 'unavailable', 'grpc'].includes(s.health.reason) ? 'unhealthy' : 'stopped';
}

/** The image a snapshot belongs to, as containerd's CRI and the pull labels name it. */
export function snapshotImage(labels: Record<string, string>): string | undefined {
  return Object.entries(labels).find(([k]) => /image[.-]ref$|image\.reference$/.test(k))?.[1];
}

/** The digest of the layer a snapshot holds, from the same labels. */
export function snapshotLayer(labels: Record<string, string>): string | undefined {
  return Object.entries(labels).find(([k]) => /layer[.-]digest$/.test(k))?.[1];
}

export interface DaemonPlace {
  kind: SnapshotterKind;
  mode: 'managed' | 'systemd';
  /** The binary setting; undefined: found on PATH. */
  binary: string | undefined;
  /** The managed daemon's folder. */
  dir: string | undefined;
  socket: string;
  /** Its root, under which it mounts the layers. */
  root: string;
  config: string;
  /** The managed daemon's log file; a systemd daemon logs to journald. */
  logFile: string | undefined;
  unit: string;
}

export interface DaemonState {
  place: DaemonPlace;
  status?: SnapshotterStatus;
  /** Why the status could not be read. */
  error?: string;
  /** A start, stop or restart under way. */
  busy?: string;
}

export class Snapshotters implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<SnapshotterKind>();
  /** Fires when a daemon's state changed (read again, or an action started or ended). */
  readonly onDidChange = this.changed.event;
  private core: Promise<CoreModule> | undefined;
  private readonly states = new Map<SnapshotterKind, DaemonState>();
  private readonly reading = new Map<SnapshotterKind, Promise<DaemonState>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly wants = new Map<string, readonly SnapshotterKind[]>();

  constructor(private readonly storage: vscode.Uri, private readonly log: vscode.LogOutputChannel) {}

  /** The core module, loaded once, when first needed, from beside this file or the extension's bundle. */
  load(): Promise<CoreModule> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.core ??= Promise.resolve().then(() => require(join(__dirname, 'snapshotterCore.js')) as CoreModule);
    return this.core;
  }

  /** True when a binary is set for a daemon: the Snapshotters section then shows in an otherwise empty tree. */
  configured(): boolean {
    const c = vscode.workspace.getConfiguration('lazyImages.snapshotters');
    return SNAPSHOTTER_KINDS.some((k) => !!c.get<string>(`${k}.binary`));
  }

  /** The last state read, if any. */
  state(kind: SnapshotterKind): DaemonState | undefined {
    return this.states.get(kind);
  }

  async place(kind: SnapshotterKind): Promise<DaemonPlace> {
    const core = await this.load();
    const profile = core.PROFILES[kind];
    const c = vscode.workspace.getConfiguration('lazyImages.snapshotters');
    const binary = c.get<string>(`${kind}.binary`) || undefined;
    if (c.get<string>(`${kind}.mode`) === 'systemd') {
      return { kind, mode: 'systemd', binary, dir: undefined, socket: c.get<string>(`${kind}.socket`) || profile.socket, root: profile.root, config: c.get<string>(`${kind}.config`) || profile.config, logFile: undefined, unit: profile.unit };
    }
    const dir = c.get<string>(`${kind}.dir`) || join(this.storage.fsPath, 'snapshotters', kind);
    const paths = core.managedPaths({ profile, dir });
    return { kind, mode: 'managed', binary, dir, socket: paths.socket, root: paths.root, config: paths.config, logFile: paths.logFile, unit: profile.unit };
  }

  /**
   * What a pull report reads of the daemon: its log file (a managed daemon's; journald is not
   * read), its root, and its metrics address from its config, as `lazyimg pull` takes them.
   */
  async observed(kind: SnapshotterKind): Promise<Pick<Core.PullOptions, 'logFile' | 'daemonRoot' | 'metricsAddress' | 'metricsNetwork'>> {
    const core = await this.load();
    const place = await this.place(kind);
    const config = await core.readDaemonConfig(core.PROFILES[kind], place.config);
    return { logFile: place.logFile, daemonRoot: place.root, metricsAddress: config.metricsAddress, metricsNetwork: config.values.metrics_network === 'unix' ? 'unix' : 'tcp' };
  }

  /** The daemon's process and when it started: a managed one's from its pid file, a systemd unit's main PID. */
  async process(kind: SnapshotterKind): Promise<{ pid: number; startedAt: number | undefined } | undefined> {
    const core = await this.load();
    const place = await this.place(kind);
    const profile = core.PROFILES[kind];
    const pid = place.mode === 'managed' ? await core.runningPid(core.managedPaths({ profile, dir: place.dir }), profile) : await core.unitMainPid(place.unit);
    return pid === undefined ? undefined : { pid, startedAt: await core.processStartedAt(pid) };
  }

  /**
   * Reads a daemon's status again; concurrent reads of one daemon share one answer. `fresh`
   * starts a read after the one under way, which may have begun before what must show (a stop).
   */
  read(kind: SnapshotterKind, fresh = false): Promise<DaemonState> {
    const running = this.reading.get(kind);
    if (running && !fresh) return running;
    const reading: Promise<DaemonState> = (running ?? Promise.resolve())
      .then(() => this.readNow(kind), () => this.readNow(kind))
      .finally(() => this.reading.get(kind) === reading && this.reading.delete(kind));
    this.reading.set(kind, reading);
    return reading;
  }

  private async readNow(kind: SnapshotterKind): Promise<DaemonState> {
    let read: Omit<DaemonState, 'busy'>;
    const place = await this.place(kind);
    try {
      const core = await this.load();
      const status = await core.snapshotterStatus(core.PROFILES[kind], { socket: place.socket, config: place.config, binaryPaths: place.binary ? [place.binary] : [], timeoutMs: 2000 });
      read = { place, status };
    } catch (e) {
      read = { place, error: describeError(e) };
    }
    // An action may have started or ended meanwhile: its mark is the current one.
    const state = { ...read, busy: this.states.get(kind)?.busy };
    this.states.set(kind, state);
    this.changed.fire(kind);
    return state;
  }

  /** Runs a start, stop or restart, with the daemon marked busy meanwhile, then reads it again. */
  async control(kind: SnapshotterKind, action: Core.UnitAction): Promise<string> {
    const core = await this.load();
    const place = await this.place(kind);
    const profile = core.PROFILES[kind];
    this.mark(kind, place, `${action === 'stop' ? 'stopping' : action === 'start' ? 'starting' : 'restarting'}...`);
    try {
      if (place.mode === 'systemd') {
        await core.controlUnit(action, place.unit);
        return `Ran ${core.systemctlCommand(action, place.unit)}`;
      }
      if (action === 'stop') {
        const stopped = await core.stopDaemon({ profile, dir: place.dir });
        return stopped.pid === undefined ? `No ${profile.binary} of ours was running in ${place.dir}` : `Stopped ${profile.binary} (PID ${stopped.pid})`;
      }
      const binary = place.binary ?? (await core.findBinary(profile));
      if (binary === undefined) throw new LazyImageError('NOT_FOUND', `Cannot find ${profile.binary} on PATH: ${profile.hint}, or set lazyImages.snapshotters.${kind}.binary`);
      const options = { profile, dir: place.dir, binary };
      const started = action === 'start' ? await core.startDaemon(options) : await core.restartDaemon(options);
      return `${profile.binary} runs as PID ${started.pid} on ${started.socket}`;
    } finally {
      this.mark(kind, place, undefined);
      await this.read(kind, true);
    }
  }

  private mark(kind: SnapshotterKind, place: DaemonPlace, busy: string | undefined): void {
    this.states.set(kind, { ...this.states.get(kind), place, busy });
    this.changed.fire(kind);
  }

  /**
   * Says which daemons a viewer (the tree, the status bar) shows now; none when it is hidden. The
   * timer runs while some viewer shows some daemon, and stops when none does: no polling when
   * nothing shows it.
   */
  want(viewer: string, kinds: readonly SnapshotterKind[]): void {
    this.wants.set(viewer, kinds);
    const polled = this.polled();
    if (polled.size > 0 && !this.timer) {
      this.log.info(`Snapshotter statuses: read every ${POLL_MS / 1000} s`);
      this.timer = setInterval(() => this.tick(), POLL_MS);
      this.tick();
    } else if (polled.size === 0 && this.timer) {
      this.log.info('Snapshotter statuses: no longer read (nothing shows them)');
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private polled(): Set<SnapshotterKind> {
    return new Set([...this.wants.values()].flat());
  }

  private tick(): void {
    for (const kind of this.polled()) void this.read(kind);
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.changed.dispose();
  }
}
