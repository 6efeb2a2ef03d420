// The status bar's account of what browsing an image has cost: bytes fetched so far against the
// image's size, with a line per layer in the tooltip. It follows the image of the active editor,
// or the last one read from.
import * as vscode from 'vscode';
import { count, formatBytes } from '../../core/format.js';
import { IMAGE_SCHEME, type ImageFileSystem } from './ImageFileSystem.js';

export class FetchedStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('lazyImages.fetched', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private shown: vscode.Uri | undefined;

  constructor(private readonly files: ImageFileSystem) {
    this.item.name = 'Lazy Images: bytes fetched';
    this.disposables.push(
      files.onDidFetch((root) => void this.show(root)),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor?.document.uri.scheme === IMAGE_SCHEME) void this.show(editor.document.uri.with({ path: '/' }));
      }),
    );
  }

  private async show(root: vscode.Uri): Promise<void> {
    this.shown = root;
    // A folder that fails to open says so in the explorer; the status bar just stays as it was.
    const opened = await this.files.image(root).catch(() => undefined);
    if (!opened || this.shown !== root) return;
    const { ref, tree } = opened;
    const costs = tree.costs();
    const fetched = costs.reduce((n, c) => n + c.fetched, 0);
    const size = costs.reduce((n, c) => n + c.size, 0);
    const name = vscode.workspace.getWorkspaceFolder(root)?.name ?? ref.tag ?? ref.digest ?? '';
    this.item.text = `$(cloud-download) ${formatBytes(fetched)} of ${formatBytes(size)} fetched`;
    const tooltip = new vscode.MarkdownString(undefined, true);
    tooltip.appendText(`${name}: ${formatBytes(fetched)} fetched of ${formatBytes(size)} (${count(costs.length, 'layer')}), TOCs and zTOCs included.\n\n`);
    tooltip.appendMarkdown('| layer | listed through | fetched | size |\n|---|---|---:|---:|\n');
    for (const c of costs) tooltip.appendMarkdown(`| ${c.index} | ${c.via ?? 'not listed'} | ${formatBytes(c.fetched)} | ${formatBytes(c.size)} |\n`);
    this.item.tooltip = tooltip;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
