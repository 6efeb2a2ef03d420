// Add and remove registries, log in and out. Passwords go to SecretStorage only.
import * as vscode from 'vscode';
import { describeError } from '../../core/errors.js';
import { parseRegistryReference } from '../../core/oci/index.js';
import type { Node } from '../tree/nodes.js';
import type { CommandDeps } from './deps.js';
import { askHost, askLogin, pickRegistry } from './prompts.js';

export function registryCommands({ services, tree }: CommandDeps) {
  const { settings, credentials, log } = services;

  /** New credentials for a host: drop its client, so the next request uses them. */
  const relogin = async (host: string): Promise<void> => {
    await services.stores.forget(host);
    tree.refresh({ kind: 'registriesRoot' });
  };

  return {
    async addRegistry(): Promise<void> {
      const host = await askHost();
      if (!host) return;
      const how = await vscode.window.showQuickPick(
        [
          { label: 'No credentials', description: 'anonymous, or what `docker login` stored in your docker config', login: false },
          { label: 'Username and password', description: 'kept in VS Code secret storage', login: true },
        ],
        { title: `Add Registry ${host}`, placeHolder: 'How does this registry authenticate you?', ignoreFocusOut: true },
      );
      if (!how) return;
      if (how.login) {
        const login = await askLogin(host);
        if (!login) return;
        await credentials.set(host, login.username, login.password);
      }
      const scope = await settings.addRegistry(host);
      const message = `Added registry ${host} to the ${scope} settings${how.login ? '; its credentials are in VS Code\'s secret storage' : ''}.`;
      log.info(message);
      void vscode.window.showInformationMessage(message);
      await relogin(host);
      tree.refresh();
    },

    async removeRegistry(node?: Node): Promise<void> {
      const host = await pickRegistry(services, node, 'Remove Registry');
      if (!host) return;
      const scope = await settings.removeRegistry(host);
      await credentials.delete(host);
      await services.stores.forget(host);
      const message = `Removed registry ${host} from the ${scope} settings.`;
      log.info(message);
      void vscode.window.showInformationMessage(message);
      tree.refresh();
    },

    async logIn(node?: Node): Promise<void> {
      const host = await pickRegistry(services, node, 'Log In');
      if (!host) return;
      const login = await askLogin(host);
      if (!login) return;
      await credentials.set(host, login.username, login.password);
      if (!settings.registries().includes(host)) log.info(`Added registry ${host} to the ${await settings.addRegistry(host)} settings`);
      log.info(`Logged in to ${host} as ${login.username}`);
      await relogin(host);
    },

    async logOut(node?: Node): Promise<void> {
      const host = await pickRegistry(services, node, 'Log Out');
      if (!host) return;
      await credentials.delete(host);
      log.info(`Logged out of ${host}`);
      await relogin(host);
    },

    async addRepository(node?: Node): Promise<void> {
      const host = await pickRegistry(services, node, 'Add Repository');
      if (!host) return;
      const name = await vscode.window.showInputBox({
        title: `Add Repository to ${host}`,
        prompt: 'Repository name, for registries that do not list their repositories',
        placeHolder: 'org/app',
        ignoreFocusOut: true,
        validateInput: (t) => {
          try {
            parseRegistryReference(`${host}/${t.trim()}`);
            return t.includes(':') || t.includes('@') ? 'A repository name has no tag or digest' : undefined;
          } catch (e) {
            return describeError(e);
          }
        },
      });
      if (!name) return;
      await settings.addRepository(host, parseRegistryReference(`${host}/${name.trim()}`).repository);
      tree.refresh({ kind: 'registry', host, loggedIn: await credentials.has(host) });
    },
  };
}
