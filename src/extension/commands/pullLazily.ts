// Pull Lazily...: a registry image pulled through containerd and a snapshotter daemon, with the
// per-layer report `lazyimg pull` prints (remote-mounted or downloaded and the daemon's reason,
// set against the prediction) in the "Lazy Images: Pulls" output channel and one line in a
// notification. What would stop it (no containerd, the daemon stopped, no ctr) is said before
// anything runs, with the action that fixes it.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { LazyImageError } from '../../core/errors.js';
import { imageLaziness, lazinessFor, preferredSnapshotter } from '../../core/image/index.js';
import { formatReference, type ImageReference, type ImageStore } from '../../core/oci/index.js';
import type { PullReport, PullSummary, SnapshotterKind } from '../../core/snapshotter/index.js';
import type { Services } from '../Services.js';
import { SNAPSHOTTER_KINDS, type Snapshotters } from '../snapshotters/Snapshotters.js';
import type { Node } from '../tree/nodes.js';
import { shortName } from './jobParams.js';
import { imageOf, pickImage } from './pickImage.js';

const TITLE = 'Pull Lazily';
const SECTION = 'lazyImages.snapshotters';
const OPEN_SETTINGS = 'Open Settings';

/** The client settings: containerd's socket and namespace, and the two pull clients (empty: on PATH). */
function clientSettings(): { address: string; namespace: string; ctr: string; ctrRemote: string } {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    address: c.get<string>('containerd.address') || '/run/containerd/containerd.sock',
    namespace: c.get<string>('containerd.namespace') || 'default',
    ctr: c.get<string>('containerd.ctr') ?? '',
    ctrRemote: c.get<string>('stargz.ctrRemote') ?? '',
  };
}

/** A bad state, said once, with a button that opens the settings it names or runs what fixes it. */
async function refuse(message: string, action: { title: string; run: () => Thenable<unknown> }): Promise<void> {
  if ((await vscode.window.showErrorMessage(`Cannot pull lazily: ${message}`, action.title)) === action.title) await action.run();
}

/** The settings editor on `query`: on its Remote tab in a remote window, where machine settings are. */
const openSettings = (query: string) => ({
  title: OPEN_SETTINGS,
  run: () => vscode.commands.executeCommand(vscode.env.remoteName ? 'workbench.action.openRemoteSettings' : 'workbench.action.openSettings', { query }),
});

/** Why containerd cannot be asked to pull, or undefined when its socket answers. */
async function containerdProblem(address: string, listening: (socket: string) => Promise<boolean>): Promise<string | undefined> {
  try {
    if (!(await stat(address)).isSocket()) return `${address} is not a socket`;
    // Connecting needs write permission on the socket file: usually root's alone.
    await access(address, constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `containerd's socket ${address} does not exist: is containerd running?`;
    if (code === 'EACCES' || code === 'EPERM') return `this user may not use containerd's socket ${address} (it usually needs root)`;
    return `cannot reach containerd's socket ${address}: ${(e as Error).message}`;
  }
  return (await listening(address)) ? undefined : `nothing answers on containerd's socket ${address}: is containerd running?`;
}

/** The client binary: the setting when set (it must be executable), else the one on PATH. */
async function client(name: 'ctr' | 'ctr-remote', setting: string, key: string, find: (b: { binary: string }) => Promise<string | undefined>): Promise<string | { problem: string }> {
  if (setting) return access(setting, constants.X_OK).then(() => setting, () => ({ problem: `${setting} (${SECTION}.${key}) is not an executable file` }));
  const hint = name === 'ctr' ? "containerd v2's ctr (soci needs its transfer service)" : "stargz-snapshotter's ctr-remote";
  return (await find({ binary: name })) ?? { problem: `${name} is not on PATH: install ${hint}, or set ${SECTION}.${key}` };
}

/** Asks which daemon, the one that would mount more of the image lazily first. */
async function pickSnapshotter(store: ImageStore, ref: ImageReference): Promise<SnapshotterKind | undefined> {
  const predicted = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Reading the layers of ${shortName(ref)}` }, () => imageLaziness(store, ref.digest ?? ref.tag));
  const preferred = preferredSnapshotter(predicted);
  const order = preferred === 'soci' ? ['soci', 'stargz'] as const : SNAPSHOTTER_KINDS;
  const items = order.map((kind) => {
    const lazy = predicted.layers.filter((l) => lazinessFor(l, kind).lazy).length;
    return { label: kind, snapshotter: kind, description: `${lazy} of ${predicted.layers.length} layers predicted lazy${kind === preferred ? ' (suggested)' : ''}` };
  });
  return (await vscode.window.showQuickPick(items, { title: `${TITLE}: ${shortName(ref)}`, placeHolder: 'Through which snapshotter?', ignoreFocusOut: true }))?.snapshotter;
}

/** The "Lazy Images: Pulls" output channel, made on the first report: every report of the session, newest last. */
export class PullChannel implements vscode.Disposable {
  private channel: vscode.OutputChannel | undefined;

  get(): vscode.OutputChannel {
    return (this.channel ??= vscode.window.createOutputChannel('Lazy Images: Pulls'));
  }

  dispose(): void {
    this.channel?.dispose();
  }
}

/** Says the outcome in one line, with a button to the whole report (and to containerd's wiring when it lacks the daemon). */
async function tell(report: PullReport, summary: PullSummary, ref: ImageReference, channel: PullChannel): Promise<void> {
  const show = 'Show Report';
  const wiring = 'Check containerd Wiring';
  const message = report.failed
    ? `Cannot pull ${shortName(ref)} through ${report.snapshotter}: ${report.failed.split('\n')[0]}`
    : `Pulled ${shortName(ref)} through ${report.snapshotter}: ${summary.text}`;
  // containerd names a snapshotter it has no proxy plugin for: its wiring is what to check.
  const buttons = report.failed && /snapshotter not loaded/.test(report.failed) ? [show, wiring] : [show];
  const say = summary.severity === 'error' ? vscode.window.showErrorMessage : summary.severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const picked = await say(message, ...buttons);
  if (picked === show) channel.get().show(true);
  if (picked === wiring) await vscode.commands.executeCommand('lazyImages.checkContainerdWiring', { kind: 'snapshotter', daemon: report.snapshotter });
}

export function pullCommands(services: Services, snapshotters: Snapshotters, channel: PullChannel) {
  return {
    /** From a registry image, a daemon row, or the palette (then it asks for the image and the daemon). */
    async pullLazily(node?: Node): Promise<void> {
      const daemon = node?.kind === 'snapshotter' ? node.daemon : undefined;
      const ref = node && !daemon ? imageOf(node) : await pickImage(services, TITLE);
      if (!ref) return;
      if (ref.kind !== 'registry') {
        void vscode.window.showErrorMessage(`Cannot pull ${formatReference(ref)} lazily: containerd pulls from a registry, not an OCI layout. Copy the image to a registry first.`);
        return;
      }
      const store = await services.stores.open(ref);
      const kind = daemon ?? (await pickSnapshotter(store, ref));
      if (!kind) return;

      const core = await snapshotters.load();
      const settings = clientSettings();
      const binary = kind === 'stargz'
        ? await client('ctr-remote', settings.ctrRemote, 'stargz.ctrRemote', (b) => core.findBinary(b))
        : await client('ctr', settings.ctr, 'containerd.ctr', (b) => core.findBinary(b));
      if (typeof binary !== 'string') return refuse(binary.problem, openSettings(kind === 'stargz' ? `${SECTION}.stargz.ctrRemote` : `${SECTION}.containerd.ctr`));
      const problem = await containerdProblem(settings.address, (s) => core.socketListening(s));
      if (problem) return refuse(problem, openSettings(`${SECTION}.containerd`));
      let health = (await snapshotters.read(kind, true)).status?.health;
      if (!health?.healthy) {
        const start = 'Start Snapshotter';
        const picked = await vscode.window.showErrorMessage(`Cannot pull lazily: the ${kind} snapshotter does not answer (${health?.message ?? 'status unknown'}); containerd would fail or pull the image whole.`, start);
        if (picked !== start) return;
        await vscode.commands.executeCommand('lazyImages.startSnapshotter', { kind: 'snapshotter', daemon: kind });
        health = (await snapshotters.read(kind, true)).status?.health;
        if (!health?.healthy) return; // the start said why
      }

      const observed = await snapshotters.observed(kind);
      let report: PullReport;
      try {
        report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Pulling ${shortName(ref)} lazily through ${kind}`, cancellable: true }, async (progress, token) => {
          const controller = new AbortController();
          const subscription = token.onCancellationRequested(() => controller.abort());
          progress.report({ message: `containerd ${settings.address}, namespace ${settings.namespace}` });
          try {
            return await core.pullLazily({
              ref: formatReference(ref), store, tagOrDigest: ref.digest ?? ref.tag, snapshotter: kind, containerd: settings.address, namespace: settings.namespace,
              ...observed, plainHttp: services.settings.insecureRegistries().includes(ref.registry),
              ctr: kind === 'soci' ? binary : undefined, ctrRemote: kind === 'stargz' ? binary : undefined, signal: controller.signal,
            });
          } finally {
            subscription.dispose();
          }
        });
      } catch (e) {
        if (e instanceof Error && (e as LazyImageError).code === 'CANCELLED') {
          vscode.window.setStatusBarMessage(`Cancelled the pull of ${shortName(ref)}: containerd keeps what it had fetched`, 5000);
          return;
        }
        throw e;
      } finally {
        void snapshotters.read(kind, true); // its remote snapshots and metrics moved
      }
      const summary = core.summarizePull(report);
      channel.get().appendLine([`[${new Date().toLocaleString()}]`, ...core.renderPull(report), summary.text, ''].join('\n'));
      void tell(report, summary, ref, channel);
    },
  };
}
