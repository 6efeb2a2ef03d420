// The status bar's account of one daemon's health (`lazyImages.snapshotters.statusBar`): shown
// once that daemon is installed or has a binary set. It asks for fresh statuses only while it is
// shown and the window has focus; a click opens the Lazy Images view.
import * as vscode from 'vscode';
import type { SnapshotterKind } from '../../core/snapshotter/index.js';
import { isKind, type Snapshotters } from './Snapshotters.js';

export class SnapshotterStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('lazyImages.snapshotter', vscode.StatusBarAlignment.Left, 49);
  private readonly disposables: vscode.Disposable[];
  private readonly firstRead: NodeJS.Timeout;

  constructor(private readonly snapshotters: Snapshotters) {
    this.item.name = 'Lazy Images: snapshotter health';
    this.item.command = 'lazyImages.images.focus';
    this.disposables = [
      snapshotters.onDidChange((kind) => kind === this.chosen() && this.update()),
      vscode.window.onDidChangeWindowState(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('lazyImages.snapshotters') && this.update(true)),
    ];
    // Whether to show is known after one read; it waits until activation is over.
    this.firstRead = setTimeout(() => this.update(true));
  }

  private chosen(): SnapshotterKind | undefined {
    const value = vscode.workspace.getConfiguration('lazyImages.snapshotters').get<string>('statusBar') ?? 'off';
    return isKind(value) ? value : undefined;
  }

  private update(read = false): void {
    const kind = this.chosen();
    const state = kind && this.snapshotters.state(kind);
    if (kind && read) void this.snapshotters.read(kind);
    const s = state?.status;
    const configured = !!kind && !!vscode.workspace.getConfiguration('lazyImages.snapshotters').get<string>(`${kind}.binary`);
    if (!kind || !state || !(s?.installed || configured)) {
      this.item.hide();
      this.snapshotters.want('statusBar', []);
      return;
    }
    const healthy = s?.health.healthy === true;
    this.item.text = `${healthy ? '$(pass-filled)' : '$(error)'} ${kind}${state.busy ? ` ${state.busy}` : healthy ? '' : s?.installed ? ' stopped' : ' not installed'}`;
    this.item.backgroundColor = healthy ? undefined : new vscode.ThemeColor('statusBarItem.errorBackground');
    this.item.tooltip = `${kind} snapshotter: ${healthy ? `healthy, ${s?.installed?.version ?? 'version unknown'}, on ${state.place.socket}` : s?.health.healthy === false ? s.health.message : state.error ?? 'status unknown'}`;
    this.item.show();
    this.snapshotters.want('statusBar', vscode.window.state.focused ? [kind] : []);
  }

  dispose(): void {
    clearTimeout(this.firstRead);
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
