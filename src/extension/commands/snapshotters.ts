// The remote snapshotter daemons: start, stop and restart (a managed daemon, or the systemd unit;
// never a silent sudo), their config and log, containerd's wiring, and a refresh. Each takes the
// daemon's tree row, or asks which daemon from the palette.
import * as vscode from 'vscode';
import type { SnapshotterKind } from '../../core/snapshotter/index.js';
import type { Dashboards } from '../snapshotters/Dashboards.js';
import { SNAPSHOTTER_KINDS, type Snapshotters } from '../snapshotters/Snapshotters.js';
import type { LogFollowers } from '../snapshotters/LogFollowers.js';
import type { Node } from '../tree/nodes.js';

async function daemonOf(node: Node | undefined, title: string): Promise<SnapshotterKind | undefined> {
  if (node && 'daemon' in node) return node.daemon;
  return (await vscode.window.showQuickPick(SNAPSHOTTER_KINDS.map((k) => ({ label: k })), { title }))?.label as SnapshotterKind | undefined;
}

/** Offers a command the user must run themselves (it needs root), with a Copy button. */
async function offerCommand(message: string, command: string): Promise<void> {
  const copy = 'Copy Command';
  if ((await vscode.window.showWarningMessage(`${message}. Run: ${command}`, copy)) === copy) await vscode.env.clipboard.writeText(command);
}

export function snapshotterCommands(snapshotters: Snapshotters, logs: LogFollowers, dashboards: Dashboards) {
  const control = (action: 'start' | 'stop' | 'restart', title: string) => async (node?: Node): Promise<void> => {
    const kind = await daemonOf(node, title);
    if (!kind) return;
    try {
      vscode.window.setStatusBarMessage(`$(check) ${await snapshotters.control(kind, action)}`, 5000);
    } catch (e) {
      // A SnapshotterError of the separately loaded core: told by its state, not its class.
      const { state, action: todo } = e as { state?: string; action?: string };
      if (state !== 'needs-root' || todo === undefined) throw e;
      await offerCommand((e as Error).message, todo.replace(/^run: /, ''));
    }
  };

  return {
    startSnapshotter: control('start', 'Start Snapshotter'),
    stopSnapshotter: control('stop', 'Stop Snapshotter'),
    restartSnapshotter: control('restart', 'Restart Snapshotter'),

    refreshSnapshotters(node?: Node): void {
      for (const kind of node && 'daemon' in node ? [node.daemon] : SNAPSHOTTER_KINDS) void snapshotters.read(kind);
    },

    /** Opens the daemon's config.toml; a missing one opens as a new file that saves there. */
    async openSnapshotterConfig(node?: Node): Promise<void> {
      const kind = await daemonOf(node, 'Open Snapshotter Config');
      if (!kind) return;
      const file = vscode.Uri.file((await snapshotters.place(kind)).config);
      const exists = await vscode.workspace.fs.stat(file).then(() => true, () => false);
      await vscode.window.showTextDocument(exists ? file : file.with({ scheme: 'untitled' }));
    },

    async showSnapshotterDashboard(node?: Node): Promise<void> {
      const kind = await daemonOf(node, 'Show Snapshotter Dashboard');
      if (kind) await dashboards.show(kind);
    },

    async showSnapshotterLogs(node?: Node): Promise<void> {
      const kind = await daemonOf(node, 'Show Snapshotter Logs');
      if (kind) await logs.show(kind);
    },

    /** Checks containerd's config for the daemon's proxy plugin; what is missing comes as TOML to copy. */
    async checkContainerdWiring(node?: Node): Promise<void> {
      const kind = await daemonOf(node, 'Check containerd Wiring');
      if (!kind) return;
      const core = await snapshotters.load();
      const profile = core.PROFILES[kind];
      const place = await snapshotters.place(kind);
      const file = vscode.workspace.getConfiguration('lazyImages.snapshotters').get<string>('containerdConfig') || core.CONTAINERD_CONFIG;
      const wiring = core.checkContainerdConfig(profile, await core.readContainerdConfig(file), file, { socket: place.socket, root: place.root, platform: core.hostPlatform() });
      if (wiring.problems.length === 0) {
        void vscode.window.showInformationMessage(`${file}: containerd uses ${kind} as proxy plugin "${wiring.plugin}".`);
        return;
      }
      const copy = 'Copy Snippet';
      const open = "Open containerd's Config";
      const detail = [...wiring.problems.map(core.formatProblem), ...(wiring.snippet ? ['', `Add to ${file} (or replace the plugin's table with it), then restart containerd:`, '', wiring.snippet] : [])].join('\n');
      const error = wiring.problems.some((p) => p.severity === 'error');
      const show = error ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
      const picked = await show(`containerd is ${error ? 'not' : 'not quite'} wired to the ${kind} snapshotter`, { modal: true, detail }, ...(wiring.snippet ? [copy] : []), open);
      if (picked === copy) await vscode.env.clipboard.writeText(wiring.snippet ?? '');
      if (picked === open) await vscode.window.showTextDocument(vscode.Uri.file(file));
    },
  };
}
