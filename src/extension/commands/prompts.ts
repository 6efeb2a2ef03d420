// Input boxes and pickers the registry commands share.
import * as vscode from 'vscode';
import { describeError } from '../../core/errors.js';
import { normalizeRegistry, parseReference, type ImageReference } from '../../core/oci/index.js';
import type { Node } from '../tree/nodes.js';
import type { Services } from '../Services.js';

export async function askHost(): Promise<string | undefined> {
  const value = await vscode.window.showInputBox({
    title: 'Add Registry',
    prompt: 'Registry host, with a port if it has one',
    placeHolder: 'ghcr.io, registry.example.com, 127.0.0.1:5000',
    ignoreFocusOut: true,
    validateInput: (text) => {
      if (!text.trim()) return 'Enter a host name';
      try {
        normalizeRegistry(text.trim().replace(/^https?:\/\//, '').replace(/\/+$/, ''));
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  return value === undefined ? undefined : normalizeRegistry(value.trim().replace(/^https?:\/\//, '').replace(/\/+$/, ''));
}

export interface Login {
  username: string;
  password: string;
}

/** Username, then password (masked). Undefined if the user cancels either. */
export async function askLogin(host: string): Promise<Login | undefined> {
  const username = await vscode.window.showInputBox({
    title: `Log In to ${host}`,
    prompt: 'Username',
    ignoreFocusOut: true,
    validateInput: (t) => (t.trim() ? undefined : 'Enter a username'),
  });
  if (username === undefined) return undefined;
  const password = await vscode.window.showInputBox({
    title: `Log In to ${host}`,
    prompt: `Password or access token for ${username.trim()}`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (t) => (t ? undefined : 'Enter a password or token'),
  });
  return password === undefined ? undefined : { username: username.trim(), password };
}

/** An image reference, checked as it is typed; undefined if the user cancels. */
export async function askReference(title: string, prompt: string, value?: string): Promise<ImageReference | undefined> {
  const input = await vscode.window.showInputBox({
    title,
    prompt,
    ...(value ? { value } : {}),
    placeHolder: 'registry.example.com/org/app:1.0, or oci:/path/to/layout:tag',
    ignoreFocusOut: true,
    validateInput: (t) => {
      try {
        parseReference(t.trim());
        return undefined;
      } catch (e) {
        return describeError(e);
      }
    },
  });
  return input ? parseReference(input.trim()) : undefined;
}

/** The registry a command is about: the node it was run on, or one the user picks. */
export async function pickRegistry(services: Services, node: Node | undefined, title: string): Promise<string | undefined> {
  if (node && (node.kind === 'registry' || node.kind === 'repository' || node.kind === 'addRepository')) return node.host;
  if (node?.kind === 'error' && node.host) return node.host;
  const hosts = services.settings.registries();
  if (hosts.length === 0) {
    void vscode.window.showInformationMessage('No registry yet: use Add Registry first.');
    return undefined;
  }
  return vscode.window.showQuickPick(hosts, { title, placeHolder: 'Registry' });
}
