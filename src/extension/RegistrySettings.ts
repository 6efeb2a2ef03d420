// The user's registries, insecure hosts, layout folders and page size, from settings; repositories
// added by hand (for registries without a catalog) in global state. No secret is ever kept here.
import * as vscode from 'vscode';
import { normalizeRegistry } from '../core/oci/index.js';

const SECTION = 'lazyImages';
const REPOSITORIES_KEY = 'lazyImages.repositories';

export class RegistrySettings {
  constructor(private readonly state: vscode.Memento) {}

  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  registries(): string[] {
    return [...new Set(this.config.get<string[]>('registries', []).flatMap((h) => {
      try {
        return [normalizeRegistry(h.trim())];
      } catch {
        return []; // a hand-edited entry that is not a host; the settings editor flags it
      }
    }))];
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

  async addRegistry(host: string): Promise<void> {
    const list = this.config.get<string[]>('registries', []);
    if (!list.includes(host)) await this.config.update('registries', [...list, host], vscode.ConfigurationTarget.Global);
  }

  async removeRegistry(host: string): Promise<void> {
    const list = this.config.get<string[]>('registries', []);
    await this.config.update('registries', list.filter((h) => h !== host), vscode.ConfigurationTarget.Global);
    await this.state.update(`${REPOSITORIES_KEY}.${host}`, undefined);
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
