// Copy Reference, Copy Digest and Inspect Manifest on tree nodes (Inspect also from the palette).
import * as vscode from 'vscode';
import { describeError } from '../../core/errors.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import { manifestUri } from '../ManifestDocuments.js';
import { askReference } from './prompts.js';
import type { Services } from '../Services.js';
import type { Node } from '../tree/nodes.js';

export function imageCommands(services: Services) {
  const copy = async (text: string): Promise<void> => {
    await vscode.env.clipboard.writeText(text);
    void vscode.window.showInformationMessage(`Copied ${text}`);
  };

  return {
    async copyReference(node?: Node): Promise<void> {
      if (!node) return;
      switch (node.kind) {
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
      if (!node) return;
      if (node.kind === 'platform') return copy(node.descriptor.digest);
      if (node.kind === 'layer') return copy(node.layer.descriptor.digest);
      if (node.kind !== 'image') return;
      try {
        const store = await services.stores.open(node.ref);
        return copy((await store.resolve(node.ref.digest ?? node.ref.tag)).digest);
      } catch (e) {
        services.log.error(`Copy Digest of ${formatReference(node.ref)}: ${describeError(e)}`);
        void vscode.window.showErrorMessage(describeError(e));
      }
    },

    async inspectManifest(node?: Node): Promise<void> {
      const ref = node?.kind === 'image' || node?.kind === 'platform' ? node.ref : node ? undefined : await askReference('Inspect Manifest', 'Image reference');
      if (!ref) return;
      const doc = await vscode.workspace.openTextDocument(manifestUri(ref));
      await vscode.window.showTextDocument(doc, { preview: true });
    },
  };
}
