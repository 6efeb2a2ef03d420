// Registry passwords in VS Code's SecretStorage (never in settings or logs), offered to the core
// as a credential provider ahead of the user's docker config.
import type * as vscode from 'vscode';
import type { Credential, CredentialProvider } from '../core/registry/index.js';

const KEY_PREFIX = 'lazyImages.credentials.';

export class CredentialStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(host: string): Promise<Credential | undefined> {
    const stored = await this.secrets.get(KEY_PREFIX + host);
    if (!stored) return undefined;
    try {
      const { username, password } = JSON.parse(stored) as { username?: unknown; password?: unknown };
      if (typeof username === 'string' && typeof password === 'string') return { kind: 'basic', username, password };
    } catch {
      // An unreadable entry is treated as no log-in; Log In writes a good one.
    }
    return undefined;
  }

  async has(host: string): Promise<boolean> {
    return (await this.get(host)) !== undefined;
  }

  set(host: string, username: string, password: string): Thenable<void> {
    return this.secrets.store(KEY_PREFIX + host, JSON.stringify({ username, password }));
  }

  delete(host: string): Thenable<void> {
    return this.secrets.delete(KEY_PREFIX + host);
  }

  provider(): CredentialProvider {
    return (host) => this.get(host);
  }
}
