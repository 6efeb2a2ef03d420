// What the extension's parts share, built once in activate() and passed down (no globals).
import type * as vscode from 'vscode';
import { Stores } from '../core/image/index.js';
import { chainCredentials, dockerKeychain, type CredentialProvider } from '../core/registry/index.js';
import { LazyReads } from './browse/LazyReads.js';
import type { CredentialStore } from './CredentialStore.js';
import type { LayoutFinder } from './LayoutFinder.js';
import type { RegistrySettings } from './RegistrySettings.js';

export class Services implements vscode.Disposable {
  private current: Stores;
  /** SecretStorage first, then the user's docker config. */
  readonly credentialProvider: CredentialProvider;
  /** What lazy file reads fetched, per layer, for the image report. */
  readonly reads = new LazyReads();

  constructor(
    readonly log: vscode.LogOutputChannel,
    readonly settings: RegistrySettings,
    readonly credentials: CredentialStore,
    readonly layouts: LayoutFinder,
  ) {
    this.credentialProvider = chainCredentials(credentials.provider(), dockerKeychain());
    this.current = this.build();
  }

  /** Stores with the current settings and credentials. */
  get stores(): Stores {
    return this.current;
  }

  /** After a settings change: new clients with the new options. */
  rebuildStores(): void {
    void this.current.close();
    this.current = this.build();
  }

  private build(): Stores {
    return new Stores({
      credentials: this.credentialProvider,
      insecure: this.settings.insecureRegistries(),
    });
  }

  dispose(): void {
    void this.current.close();
  }
}
