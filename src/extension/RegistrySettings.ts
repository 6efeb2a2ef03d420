// The user's registries, insecure hosts, layout folders and page size, from settings; repositories
// added by hand (for registries without a catalog) in global state. No secret is ever kept here.
import * as vscode from 'vscode';
import { normalizeRegistry } from '../core/oci/index.js';

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

  insecureRegistries(): string[] {
    return this.config.get<string[]>('insecureRegistries', []);
  }

  layoutFolders(): string[] {
    return this.config.get<string[]>('layoutFolders', []);
  }

  pageSize(): number {
    const n = this.config.get<number>('pageSize', 100);
    return Number.isSafeInteger(n) && n > 0 ? Math.min(n, 1000) : 100;
  }

  /** Adds a registry to the list in effect (a workspace's own list hides the user's); says which. */
  async addRegistry(host: string): Promise<SettingsScope> {
    const { scope, target, list } = this.registriesInEffect();
    if (!list.some((h) => normalized(h) === host)) await this.config.update('registries', [...list, host], target);
    return scope;
  }

  /** Removes a registry from the list in effect, leaving other scopes' lists alone; says which. */
  async removeRegistry(host: string): Promise<SettingsScope> {
    const { scope, target, list } = this.registriesInEffect();
    await this.config.update('registries', list.filter((h) => normalized(h) !== host), target);
    await this.state.update(`${REPOSITORIES_KEY}.${host}`, undefined);
    return scope;
  }

  /** VS Code shows the most specific scope's list; the registries setting has no folder scope. */
  private registriesInEffect(): { scope: SettingsScope; target: vscode.ConfigurationTarget; list: string[] } {
    const inspected = this.config.inspect<string[]>('registries');
    if (inspected?.workspaceValue !== undefined) return { scope: 'workspace', target: vscode.ConfigurationTarget.Workspace, list: inspected.workspaceValue };
    return { scope: 'user', target: vscode.ConfigurationTarget.Global, list: inspected?.globalValue ?? [] };
  }

  async addLayoutFolder(path: string): Promise<void> {
    const list = this.layoutFolders();
    if (!list.includes(path)) await this.config.update('layoutFolders', [...list, path], vscode.ConfigurationTarget.Global);
  }

  repositories(host: string): string[] {
    return this.state.get<string[]>(`${REPOSITORIES_KEY}.${host}`, []);
  }

  async addRepository(host: string, repository: string): Promise<void> {
    const list = this.repositories(host);
    if (!list.includes(repository)) await this.state.update(`${REPOSITORIES_KEY}.${host}`, [...list, repository].sort());
  }
}
