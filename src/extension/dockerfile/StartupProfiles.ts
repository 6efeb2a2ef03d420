// The startup profile recorded for a Dockerfile: Optimize for Startup... saves it beside the file
// as `<name>.startup.json`, the profile `lazyimg optimize --record-out` writes. Read once per
// change of that file, for the lens that converts with it.
import * as vscode from 'vscode';
import { describeError } from '../../core/errors.js';
import { parseProfile, type StartupProfile } from '../../core/optimize/index.js';

export const PROFILE_SUFFIX = '.startup.json';

export type SavedProfile = { uri: vscode.Uri; profile: StartupProfile } | { uri: vscode.Uri; error: string };

/** Where a Dockerfile's profile goes: beside it, named after it. */
export function profileUri(dockerfile: vscode.Uri): vscode.Uri {
  return dockerfile.with({ path: `${dockerfile.path}${PROFILE_SUFFIX}` });
}

export class StartupProfiles implements vscode.Disposable {
  private readonly loaded = new Map<string, Promise<SavedProfile | undefined>>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a profile file appears, changes or goes. */
  readonly onDidChange = this.changed.event;
  private readonly watcher = vscode.workspace.createFileSystemWatcher(`**/*${PROFILE_SUFFIX}`);
  private readonly disposables: vscode.Disposable[] = [this.changed, this.watcher];

  constructor() {
    for (const event of [this.watcher.onDidCreate, this.watcher.onDidChange, this.watcher.onDidDelete]) this.disposables.push(event((uri) => this.forget(uri)));
  }

  /** The profile beside a Dockerfile on disk, or why it is not one; undefined when there is none. */
  get(dockerfile: vscode.Uri): Promise<SavedProfile | undefined> {
    if (dockerfile.scheme !== 'file') return Promise.resolve(undefined);
    const uri = profileUri(dockerfile);
    const key = uri.toString();
    let found = this.loaded.get(key);
    if (!found) {
      found = load(uri);
      this.loaded.set(key, found);
    }
    return found;
  }

  /** A profile file was written: read it again (the watcher may say so later, or not at all). */
  forget(uri: vscode.Uri): void {
    this.loaded.delete(uri.toString());
    this.changed.fire();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

async function load(uri: vscode.Uri): Promise<SavedProfile | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await vscode.workspace.fs.readFile(uri);
  } catch {
    return undefined;
  }
  try {
    return { uri, profile: parseProfile(new TextDecoder().decode(bytes), vscode.workspace.asRelativePath(uri)) };
  } catch (e) {
    return { uri, error: describeError(e) };
  }
}
