// Commands on images and their parts: Copy Reference and Copy Digest (confirmed in the status
// bar), Inspect Manifest and Inspect Config (read-only JSON), Show Image Report (a webview), and
// Delete Tag (after a question).
// Each works on a tree node, or on an image picked from the palette.
import * as vscode from 'vscode';
import { describeError } from '../../core/errors.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import { configUri, manifestUri } from '../ManifestDocuments.js';
import type { Node } from '../tree/nodes.js';
import { imageParentId } from '../tree/nodes.js';
import type { CommandDeps } from './deps.js';
import { storeName } from './jobParams.js';
import { imageOrPick } from './pickImage.js';

export function imageCommands({ services, tree, imageReports }: CommandDeps) {
  const copy = async (text: string): Promise<void> => {
    await vscode.env.clipboard.writeText(text);
    vscode.window.setStatusBarMessage(`$(check) Copied ${text}`, 4000);
  };

  return {
    async copyReference(node?: Node): Promise<void> {
      switch (node?.kind) {
        case undefined: {
          const ref = await imageOrPick(services, node, 'Copy Reference');
          return ref && copy(formatReference(ref));
        }
        case 'repository':
          return copy(`${node.host}/${node.repository}`);
        case 'image':
        case 'platform':
          return copy(formatReference(node.ref));
        case 'layer':
          // A blob is addressed by its digest in the repository.
          return copy(formatReference({ ...node.ref, tag: undefined, digest: node.layer.descriptor.digest } as ImageReference));
        default:
          return;
      }
    },

    async copyDigest(node?: Node): Promise<void> {
      if (node?.kind === 'platform') return copy(node.descriptor.digest);
      if (node?.kind === 'layer') return copy(node.layer.descriptor.digest);
      const ref = await imageOrPick(services, node, 'Copy Digest');
      if (!ref) return;
      try {
        const store = await services.stores.open(ref);
        return copy((await store.resolve(ref.digest ?? ref.tag)).digest);
      } catch (e) {
        services.log.error(`Copy Digest of ${formatReference(ref)}: ${describeError(e)}`);
        void vscode.window.showErrorMessage(describeError(e));
      }
    },

    async inspectManifest(node?: Node): Promise<void> {
      const ref = await imageOrPick(services, node, 'Inspect Manifest');
      if (ref) await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(manifestUri(ref)), { preview: true });
    },

    /** The image's config: entrypoint, command, environment, working folder, labels, history. */
    async inspectConfig(node?: Node): Promise<void> {
      const ref = await imageOrPick(services, node, 'Inspect Config');
      if (ref) await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(configUri(ref)), { preview: true });
    },

    /** Per platform: the layers and how each is pulled, the last verification, what lazy reads fetched. */
    async showImageReport(node?: Node): Promise<void> {
      const ref = await imageOrPick(services, node, 'Show Image Report');
      if (ref) await imageReports.show(ref);
    },

    async deleteTag(node?: Node): Promise<void> {
      const ref = node?.kind === 'image' ? node.ref : node ? undefined : await imageOrPick(services, node, 'Delete Tag');
      if (!ref?.tag) return;
      const what = `${ref.kind === 'registry' ? `${ref.repository}:${ref.tag}` : ref.tag} in ${storeName(ref)}`;
      const detail = ref.kind === 'registry'
        ? 'The registry removes the tag. The image stays while other tags or indexes use it, until the registry collects garbage.'
        : 'The tag leaves the layout\'s index.json. Its blobs stay on disk.';
      if (await vscode.window.showWarningMessage(`Delete the tag ${what}?`, { modal: true, detail }, 'Delete Tag') !== 'Delete Tag') return;
      const store = await services.stores.open(ref);
      await store.deleteTag(ref.tag);
      services.log.info(`Deleted tag ${formatReference(ref)}`);
      vscode.window.setStatusBarMessage(`$(trash) Deleted ${formatReference(ref)}`, 4000);
      tree.refresh(imageParentId(ref));
    },
  };
}
