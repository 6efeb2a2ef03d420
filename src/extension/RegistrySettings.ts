// The user's registries, insecure hosts, layout folders and page size, from settings; repositories
// added by hand (for registries without a catalog) in global state. No secret is ever kept here.
import * as vscode from 'vscode';
import { normalizeRegistry } from '../core/oci/index.js';
import { restrictedSetting } from './restrictedSetting.js';

const SECTION = 'lazyImages';
const REPOSITORIES_KEY = 'lazyImages.repositories';

/** Where a list setting is written: the scope whose value is in effect, so the change shows. */
export type SettingsScope = 'user' | 'workspace';

/** The host in the normal form, or undefined for a hand-edited entry that is no host. */
function normalized(host: string): string | undefined {
  try {
    return normalizeRegistry(host.trim());
  } catch {
    return undefined; // the settings editor flags it
  }
}

export class RegistrySettings {
  constructor(private readonly state: vscode.Memento) {}

  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  registries(): string[] {
    return [...new Set(this.config.get<string[]>('registries', []).flatMap((h) => normalized(h) ?? []))];
  }

  /** Hosts whose TLS is not checked: an untrusted workspace cannot add any. */
  insecureRegistries(): string[] {
    return restrictedSetting<string[]>(SECTION, 'insecureRegistries', []).value;
  }

  /** Layout folders to read besides the workspace's: an untrusted workspace cannot add any. */
  layoutFolders(): string[] {
    return restrictedSetting<string[]>(SECTION, 'layoutFolders', []).value;
  }

  /** Image rows per listing whose lazy status is read without being expanded (0: none). */
  lazyStatusRows(): number {
    const n = this.config.get<number>('lazyStatusRows', 25);
    return Number.isSafeInteger(n) && n >= 0 ? Math.min(n, 1000) : 25;
  }

  pageSize(): number {
    const n = this.config.get<number>('pageSize', 100);
    return Number.isSafeInteger(n) && n > 0 ? Math.min(n, 1000) : 100;
  }

  /** Adds a registry to the list in effect (a workspace's own list hides the user's); says which. */
  async addRegistry(host: string): Promise<SettingsScope> {
    const { scope, target, list } = this.listInEffect('registries');
    if (!list.some((h) => normalized(h) === host)) await this.config.update('registries', [...list, host], target);
    return scope;
  }

  /** Removes a registry from the list in effect, leaving other scopes' lists alone; says which. */
  async removeRegistry(host: string): Promise<SettingsScope> {
    const { scope, target, list } = this.listInEffect('registries');
    await this.config.update('registries', list.filter((h) => normalized(h) !== host), target);
    await this.state.update(`${REPOSITORIES_KEY}.${host}`, undefined);
    return scope;
  }

  /** Adds a layout folder to the list in effect; says which. */
  async addLayoutFolder(path: string): Promise<SettingsScope> {
    const { scope, target, list } = this.listInEffect('layoutFolders');
    if (!list.includes(path)) await this.config.update('layoutFolders', [...list, path], target);
    return scope;
  }

  /** Takes a folder out of the list in effect; undefined when it is not listed (the workspace holds it). */
  async removeLayoutFolder(path: string): Promise<SettingsScope | undefined> {
    const { scope, target, list } = this.listInEffect('layoutFolders');
    if (!list.includes(path)) return undefined;
    await this.config.update('layoutFolders', list.filter((p) => p !== path), target);
    return scope;
  }

  /** VS Code shows the most specific scope's list; these settings have no folder scope. */
  private listInEffect(key: 'registries' | 'layoutFolders'): { scope: SettingsScope; target: vscode.ConfigurationTarget; list: string[] } {
    const inspected = this.config.inspect<string[]>(key);
    if (inspected?.workspaceValue !== undefined) return { scope: 'workspace', target: vscode.ConfigurationTarget.Workspace, list: inspected.workspaceValue };
    return { scope: 'user', target: vscode.ConfigurationTarget.Global, list: inspected?.globalValue ?? [] };
  }

  repositories(host: string): string[] {
    return this.state.get<string[]>(`${REPOSITORIES_KEY}.${host}`, []);
  }

  async addRepository(host: string, repository: string): Promise<void> {
    const list = this.repositories(host);
    if (!list.includes(repository)) await this.state.update(`${REPOSITORIES_KEY}.${host}`, [...list, repository].sort());
  }
}
