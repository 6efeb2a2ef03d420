// The image a command acts on: the tree node it was run on, or, from the Command Palette, one
// picked from the tree's own sources (a registry or layout, then a repository, then a tag) or
// typed in. Lists come a page at a time, as in the tree.
import * as vscode from 'vscode';
import { describeError } from '../../core/errors.js';
import { layoutImage, listImages } from '../../core/image/index.js';
import { formatReference, type ImageReference, type NamePage } from '../../core/oci/index.js';
import type { Services } from '../Services.js';
import type { Node } from '../tree/nodes.js';
import { askReference } from './prompts.js';

type Item = vscode.QuickPickItem & { pick?: () => Promise<ImageReference | undefined> };

/** The image a node is (a tag, or one platform of it), or undefined for any other node. */
export function imageOf(node: Node | undefined): ImageReference | undefined {
  return node?.kind === 'image' || node?.kind === 'platform' ? node.ref : undefined;
}

/** The node's image; with no node (the palette), one the user picks. */
export async function imageOrPick(services: Services, node: Node | undefined, title: string): Promise<ImageReference | undefined> {
  if (node) return imageOf(node);
  return pickImage(services, title);
}

export async function pickImage(services: Services, title: string): Promise<ImageReference | undefined> {
  const sources = async (): Promise<Item[]> => [
    ...(await services.layouts.list()).map((l): Item => ({ label: `$(folder) ${l.label}`, description: 'OCI layout', pick: () => fromLayout(services, title, l.path) })),
    ...services.settings.registries().map((host): Item => ({ label: `$(server) ${host}`, description: 'registry', pick: () => fromRegistry(services, title, host) })),
    { label: '$(edit) Enter a reference...', pick: () => askReference(title, 'Image reference') },
  ];
  return choose(title, 'Where is the image?', sources());
}

async function fromLayout(services: Services, title: string, path: string): Promise<ImageReference | undefined> {
  const images = async (): Promise<Item[]> => (await listImages(await services.stores.open({ kind: 'oci-layout', path }))).map((m): Item => {
    const { ref, label } = layoutImage(path, m);
    return { label, description: formatReference(ref), pick: async () => ref };
  });
  return choose(title, 'Which image?', images());
}

async function fromRegistry(services: Services, title: string, host: string): Promise<ImageReference | undefined> {
  const pageSize = services.settings.pageSize();
  const repositories = async (): Promise<Item[]> => {
    const manual = services.settings.repositories(host);
    const listed = await firstPage(services.stores.repositories(host, { pageSize })).catch(() => []); // no catalog: typed names only
    const names = [...new Set([...manual, ...listed])];
    return [
      ...names.map((repository): Item => ({ label: `$(repo) ${repository}`, pick: () => fromRepository(services, title, host, repository) })),
      { label: '$(edit) Enter a repository...', pick: async () => {
        const name = await vscode.window.showInputBox({ title, prompt: `Repository of ${host}`, placeHolder: 'org/app', ignoreFocusOut: true });
        return name?.trim() ? fromRepository(services, title, host, name.trim()) : undefined;
      } },
    ];
  };
  return choose(title, `Which repository of ${host}?`, repositories());
}

async function fromRepository(services: Services, title: string, host: string, repository: string): Promise<ImageReference | undefined> {
  const tags = async (): Promise<Item[]> => {
    const store = await services.stores.open({ kind: 'registry', registry: host, repository });
    return (await firstPage(store.listTags({ pageSize: services.settings.pageSize() }))).map((tag): Item => {
      const ref: ImageReference = { kind: 'registry', registry: host, repository, tag };
      return { label: `$(tag) ${tag}`, description: formatReference(ref), pick: async () => ref };
    });
  };
  return choose(title, `Which tag of ${repository}?`, tags());
}

async function firstPage(pages: AsyncIterable<NamePage>): Promise<string[]> {
  for await (const page of pages) return page.names;
  return [];
}

/** A quick pick over items still loading (VS Code shows it busy); a failed load says why. */
async function choose(title: string, placeHolder: string, items: Promise<Item[]>): Promise<ImageReference | undefined> {
  const shown = items.catch((e: unknown): Item[] => [{ label: `$(error) ${describeError(e)}` }]);
  const picked = await vscode.window.showQuickPick(shown, { title, placeHolder, ignoreFocusOut: true, matchOnDescription: true });
  return picked?.pick?.();
}
