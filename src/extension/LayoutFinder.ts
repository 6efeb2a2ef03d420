// Finds OCI image layouts (folders holding an `oci-layout` file) in the workspace and in the
// folders the user added, and tells the tree when one appears or disappears, or which of those it
// listed changed since (a job's own writes are shown already: drawing them again would only make
// rows flicker, and a click on a row being redrawn is lost).
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { RegistrySettings } from './RegistrySettings.js';

const MAX_LAYOUTS = 200;
const DEBOUNCE_MS = 500;

export interface LayoutFolder {
  path: string;
  /** Workspace-relative when inside the workspace. */
  label: string;
  /** Listed in the layoutFolders setting (so Remove Layout Folder can take it out again). */
  configured: boolean;
}

/** Whether the list of layouts may have changed, and which listed layouts' images did. */
export interface LayoutChange {
  list: boolean;
  layouts: string[];
}

export class LayoutFinder implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LayoutChange>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;
  /** Each layout the tree listed: its index.json then, and a watch on its folder. */
  private readonly listed = new Map<string, { version: string; watcher?: FSWatcher }>();
  /** What the events waiting for the debounce may have changed. */
  private pending = { list: false, layouts: new Set<string>() };

  constructor(private readonly settings: RegistrySettings) {
    const rescan = (): void => this.note('all');
    const markers = vscode.workspace.createFileSystemWatcher('**/oci-layout');
    this.disposables.push(markers, markers.onDidCreate(rescan), markers.onDidDelete(rescan));
    // Files written into a folder the moment it is created (`skopeo copy ... oci:new-dir`) can
    // beat the recursive watcher to it and never be reported: a new folder triggers a rescan.
    const folders = vscode.workspace.createFileSystemWatcher('**', false, true, true);
    this.disposables.push(folders, folders.onDidCreate((uri) => void isDirectory(uri.fsPath).then((dir) => dir && rescan())));
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(rescan),
      vscode.workspace.onDidGrantWorkspaceTrust(rescan),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('lazyImages.layoutFolders') && rescan()),
    );
  }

  /**
   * Called as the tree starts listing a layout's images, before it reads index.json. The layout's
   * own folder is watched from then on: the workspace's recursive watcher misses writes into
   * folders made just before, and does not see layout folders outside the workspace at all.
   */
  async listing(path: string): Promise<void> {
    const version = await indexVersion(path);
    const known = this.listed.get(path);
    if (known) {
      known.version = version;
      return;
    }
    const entry: { version: string; watcher?: FSWatcher } = { version };
    this.listed.set(path, entry);
    try {
      entry.watcher = watch(path, { persistent: false }, (_event, file) => file === 'index.json' && this.note(path));
      entry.watcher.on('error', () => this.forget(path)); // the folder went away: the rescan shows it
    } catch {
      // Unwatchable (gone already, or out of inotify watches): shown as listed until a refresh.
    }
  }

  private note(change: string | 'all'): void {
    if (change === 'all') this.pending.list = true;
    else this.pending.layouts.add(change);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), DEBOUNCE_MS);
  }

  private async flush(): Promise<void> {
    const { list, layouts } = this.pending;
    this.pending = { list: false, layouts: new Set() };
    const changed: string[] = [];
    for (const path of layouts) {
      const known = this.listed.get(path);
      if (known && known.version !== await indexVersion(path)) changed.push(path);
    }
    if (list || changed.length) this.changed.fire({ list, layouts: changed });
  }

  private forget(path: string): void {
    this.listed.get(path)?.watcher?.close();
    this.listed.delete(path);
  }

  async list(): Promise<LayoutFolder[]> {
    const found = new Map<string, LayoutFolder>();
    // Files of an untrusted workspace are not read: they could be crafted to attack parsers.
    if (vscode.workspace.isTrusted) {
      const markers = await vscode.workspace.findFiles('**/oci-layout', '**/{node_modules,.git}/**', MAX_LAYOUTS);
      const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
      for (const uri of markers) {
        const path = dirname(uri.fsPath);
        found.set(path, { path, label: vscode.workspace.asRelativePath(path, multiRoot), configured: false });
      }
    }
    for (const path of this.settings.layoutFolders()) {
      const inWorkspace = found.get(path);
      if (inWorkspace) inWorkspace.configured = true;
      else if (await isLayout(path)) found.set(path, { path, label: path, configured: true });
    }
    for (const path of this.listed.keys()) if (!found.has(path)) this.forget(path);
    return [...found.values()].sort((a, b) => a.label.localeCompare(b.label));
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const path of [...this.listed.keys()]) this.forget(path);
    for (const d of this.disposables) d.dispose();
  }
}

/** A file replaced by rename gets a new inode; one written in place a new mtime or size. */
async function indexVersion(path: string): Promise<string> {
  try {
    const s = await stat(join(path, 'index.json'));
    return `${s.ino}:${s.mtimeMs}:${s.size}`;
  } catch {
    return 'missing';
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function isLayout(path: string): Promise<boolean> {
  try {
    return (await stat(join(path, 'oci-layout'))).isFile();
  } catch {
    return false;
  }
}
