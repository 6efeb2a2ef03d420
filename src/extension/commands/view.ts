// Tree housekeeping: refresh, retry after an error, load the next page; add, remove and reveal
// layout folders.
import * as vscode from 'vscode';
import { isLayout } from '../LayoutFinder.js';
import { isPaged, type Node, type PagedNode } from '../tree/nodes.js';
import type { CommandDeps } from './deps.js';

export function viewCommands({ services, tree }: CommandDeps) {
  /** The layout a command is about: the node's, or one the user picks. */
  const layoutOf = async (node: Node | undefined, title: string, configuredOnly = false): Promise<string | undefined> => {
    if (node?.kind === 'layout') return node.path;
    const folders = (await services.layouts.list()).filter((l) => !configuredOnly || l.configured);
    if (folders.length === 0) {
      void vscode.window.showInformationMessage(configuredOnly ? 'No layout folder was added by hand: those found in the workspace go with it.' : 'No OCI layout yet.');
      return undefined;
    }
    return (await vscode.window.showQuickPick(folders.map((l) => ({ label: l.label, description: l.path, path: l.path })), { title }))?.path;
  };

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
      const scope = await services.settings.addLayoutFolder(folder);
      services.log.info(`Added OCI layout folder ${folder} to the ${scope} settings`);
      tree.refresh();
    },

    /** Takes a folder added by hand out of the view (the folder itself stays). */
    async removeLayoutFolder(node?: Node): Promise<void> {
      const path = await layoutOf(node, 'Remove Layout Folder', true);
      if (!path) return;
      const scope = await services.settings.removeLayoutFolder(path);
      if (!scope) {
        void vscode.window.showInformationMessage(`${path} is in the workspace: it shows as long as the workspace holds it.`);
        return;
      }
      vscode.window.setStatusBarMessage(`$(check) Removed ${path} from the layout folders of the ${scope} settings`, 4000);
      tree.refresh({ kind: 'layoutsRoot' });
    },

    /** Shows the folder in the Explorer, or in the system's file manager when it is outside the workspace. */
    async revealLayout(node?: Node): Promise<void> {
      const path = await layoutOf(node, 'Reveal in Explorer');
      if (!path) return;
      const uri = vscode.Uri.file(path);
      await vscode.commands.executeCommand(vscode.workspace.getWorkspaceFolder(uri) ? 'revealInExplorer' : 'revealFileInOS', uri);
    },
  };
}
