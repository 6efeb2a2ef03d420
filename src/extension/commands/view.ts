// Tree housekeeping: refresh, retry after an error, load the next page, add a layout folder.
import * as vscode from 'vscode';
import type { Services } from '../Services.js';
import { isLayout } from '../LayoutFinder.js';
import type { LazyImagesTreeProvider } from '../tree/LazyImagesTreeProvider.js';
import { isPaged, type Node, type PagedNode } from '../tree/nodes.js';

export function viewCommands(services: Services, tree: LazyImagesTreeProvider) {
  return {
    refresh(node?: Node): void {
      tree.refresh(node);
    },

    async retry(node?: Node): Promise<void> {
      if (node?.kind !== 'error') return;
      const { parent } = node;
      if (node.retry === 'loadMore' && isPaged(parent)) await tree.loadMore(parent);
      else tree.refresh(parent);
    },

    async loadMore(node?: PagedNode): Promise<void> {
      if (isPaged(node)) await tree.loadMore(node);
    },

    async addLayoutFolder(): Promise<void> {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, title: 'Add OCI Layout Folder', openLabel: 'Add' });
      const folder = picked?.[0]?.fsPath;
      if (!folder) return;
      if (!(await isLayout(folder))) {
        void vscode.window.showErrorMessage(`${folder} is not an OCI image layout: it has no oci-layout file.`);
        return;
      }
      await services.settings.addLayoutFolder(folder);
      services.log.info(`Added OCI layout folder ${folder}`);
      tree.refresh();
    },
  };
}
