// An image's files without pulling it: Browse Image Files (lazy) adds its merged root filesystem as
// a read-only workspace folder; Find File in Image... finds a file by name in it and opens it.
// Both list from the layers' TOCs and zTOCs only; opening a file fetches its chunks or spans.
import { posix } from 'node:path';
import * as vscode from 'vscode';
import { count } from '../../core/format.js';
import type { MergedEntry, MergedTree } from '../../core/lazy/index.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import { IMAGE_SCHEME, type ImageFileSystem } from '../browse/ImageFileSystem.js';
import type { Node } from '../tree/nodes.js';
import type { CommandDeps } from './deps.js';
import { shortName } from './jobParams.js';
import { imageOrPick } from './pickImage.js';

type FileItem = vscode.QuickPickItem & { entry: MergedEntry };

/** Which layer a file comes from, and what a lazy pull fetches it with. */
function describeEntry(e: MergedEntry): string {
  const how = e.prefetched ? 'prefetched (before the landmark)' : e.spans ? (e.spans[0] === e.spans[1] ? `span ${e.spans[0]}` : `spans ${e.spans[0]}–${e.spans[1]}`) : e.chunks ? count(e.chunks, 'chunk') : '';
  return [`layer ${e.layer}`, how, e.type === 'symlink' ? `→ ${e.linkname}` : ''].filter(Boolean).join(' · ');
}

export function browseCommands({ services }: CommandDeps, files: ImageFileSystem) {
  /** Opens the image's tree with a progress notification, so a failure is a message, not an empty folder. */
  const openTree = async (ref: ImageReference): Promise<{ root: vscode.Uri; tree: MergedTree }> => {
    const root = await files.root(ref);
    const { tree } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Reading the file lists of ${shortName(ref)}...` }, () => files.image(root));
    return { root, tree };
  };

  /** The image of the active `lazyimg:` editor, or of the only browsed folder. */
  const browsedImage = async (): Promise<ImageReference | undefined> => {
    const active = vscode.window.activeTextEditor?.document.uri;
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === IMAGE_SCHEME);
    const root = active?.scheme === IMAGE_SCHEME ? active.with({ path: '/' }) : folders.length === 1 ? folders[0]!.uri : undefined;
    return root ? (await files.image(root)).ref : undefined;
  };

  return {
    browseImageFiles: async (node?: Node): Promise<void> => {
      const ref = await imageOrPick(services, node, 'Browse Image Files (lazy)');
      if (!ref) return;
      const { root } = await openTree(ref);
      const folders = vscode.workspace.workspaceFolders ?? [];
      if (!folders.some((f) => f.uri.toString() === root.toString())) {
        // Added last, so the first folder (and the extension host with it) stays as it is.
        vscode.workspace.updateWorkspaceFolders(folders.length, 0, { uri: root, name: `${shortName(ref)} (lazy)` });
      }
      await vscode.commands.executeCommand('workbench.view.explorer');
    },

    findFileInImage: async (node?: Node): Promise<void> => {
      const ref = node ? await imageOrPick(services, node, 'Find File in Image') : (await browsedImage()) ?? (await imageOrPick(services, undefined, 'Find File in Image'));
      if (!ref) return;
      const { root, tree } = await openTree(ref);
      const items = [...tree.entries()].filter((e) => e.type !== 'dir').map((entry): FileItem => ({
        label: posix.basename(entry.path),
        description: `/${posix.dirname(entry.path) === '.' ? '' : posix.dirname(entry.path)}`,
        detail: describeEntry(entry),
        entry,
      }));
      const gaps = tree.gaps.length ? ` (${count(tree.gaps.length, 'layer')} not listed: ${tree.gaps.map((g) => g.index).join(', ')})` : '';
      const picked = await vscode.window.showQuickPick(items, {
        title: `Find File in ${shortName(ref)}${gaps}`,
        placeHolder: `A name in ${count(items.length, 'file')}; nothing is fetched until you open one`,
        matchOnDescription: true,
      });
      if (picked) await vscode.window.showTextDocument(root.with({ path: `/${picked.entry.path}` }), { preview: true });
    },
  };
}

/** A browsed image with layers no TOC or zTOC lists: say which, and offer to make them lazy. */
export async function offerToMakeLazy(ref: ImageReference, tree: MergedTree): Promise<void> {
  const [first] = tree.gaps;
  if (!first) return;
  const broken = tree.gaps.some((g) => g.broken);
  const more = tree.gaps.length > 1 ? ` (and ${count(tree.gaps.length - 1, 'other layer')})` : '';
  const message = `${formatReference(ref)}: its files are listed without layer ${first.index} (${first.digest.slice(7, 19)}): ${first.reason}${more}.`;
  const actions = broken ? [] : ['Convert to eStargz...', 'Build SOCI Index...'];
  const choice = await vscode.window.showWarningMessage(message, ...actions);
  const node: Node = { kind: 'image', ref, label: formatReference(ref), parentId: '' };
  if (choice === 'Convert to eStargz...') await vscode.commands.executeCommand('lazyImages.convertToEstargz', node);
  if (choice === 'Build SOCI Index...') await vscode.commands.executeCommand('lazyImages.buildSociIndex', node);
}
