// Finds OCI image layouts (folders holding an `oci-layout` file) in the workspace and in the
// folders the user added, and tells the tree when one appears, disappears or changes.
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

export class LayoutFinder implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly settings: RegistrySettings) {
    const fire = (): void => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.changed.fire(), DEBOUNCE_MS);
    };
    for (const pattern of ['**/oci-layout', '**/index.json']) {
      const watcher = vscode.workspace.createFileSystemWatcher(pattern);
      this.disposables.push(watcher, watcher.onDidCreate(fire), watcher.onDidDelete(fire), watcher.onDidChange(fire));
    }
    // Files written into a folder the moment it is created (`skopeo copy ... oci:new-dir`) can
    // beat the recursive watcher to it and never be reported: a new folder triggers a rescan.
    const folders = vscode.workspace.createFileSystemWatcher('**', false, true, true);
    this.disposables.push(folders, folders.onDidCreate((uri) => void isDirectory(uri.fsPath).then((dir) => dir && fire())));
    this.disposables.push(
      vscode.workspace.onDidChangeWorkspaceFolders(fire),
      vscode.workspace.onDidGrantWorkspaceTrust(fire),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('lazyImages.layoutFolders') && fire()),
    );
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
    return [...found.values()].sort((a, b) => a.label.localeCompare(b.label));
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
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
