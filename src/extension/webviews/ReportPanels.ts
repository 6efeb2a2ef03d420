// The open reports of one kind, one panel per subject (an image reference, a job, a daemon):
// opening a report that is open reveals it. After a window reload VS Code hands back the panels it
// restored, with the state their webviews saved; `revived` gets each, to fill it again.
import * as vscode from 'vscode';
import type { SavedReport } from './protocol.js';
import { ReportPanel, type ReportKind } from './ReportPanel.js';

export class ReportPanels<D> implements vscode.Disposable {
  private readonly panels = new Map<string, ReportPanel<D>>();
  private readonly serializer: vscode.Disposable;

  /**
   * `keyOf` names a report's subject from its data; `revived` gets each panel restored after a
   * reload, with its saved data when the webview had saved any.
   */
  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly kind: ReportKind,
    private readonly keyOf: (data: D) => string,
    revived: (panel: ReportPanel<D>, saved: D | undefined) => void,
  ) {
    this.serializer = vscode.window.registerWebviewPanelSerializer(kind.viewType, {
      deserializeWebviewPanel: async (webviewPanel: vscode.WebviewPanel, state: unknown) => {
        const panel = ReportPanel.revive<D>(extensionUri, kind, webviewPanel);
        const saved = (state as SavedReport<D> | undefined)?.data;
        if (saved !== undefined) this.keep(this.keyOf(saved), panel);
        revived(panel, saved);
      },
    });
  }

  /** The panel showing `key`, brought to the front, or a new one. */
  open(key: string, title: string): ReportPanel<D> {
    const open = this.panels.get(key);
    if (open) {
      open.reveal();
      return open;
    }
    const panel = ReportPanel.create<D>(this.extensionUri, this.kind, title);
    this.keep(key, panel);
    return panel;
  }

  /** The open panel of `key`, if any, without revealing it. */
  get(key: string): ReportPanel<D> | undefined {
    return this.panels.get(key);
  }

  get all(): ReportPanel<D>[] {
    return [...this.panels.values()];
  }

  private keep(key: string, panel: ReportPanel<D>): void {
    this.panels.set(key, panel);
    panel.onDidDispose(() => {
      if (this.panels.get(key) === panel) this.panels.delete(key);
    });
  }

  /** The panels stay: at a window reload VS Code restores them through the serializer. */
  dispose(): void {
    this.serializer.dispose();
  }
}
