// A report in a webview panel: the page from html.ts around one bundle of dist/webview, the data
// sent by postMessage, and the webview's own messages parsed before anything acts on them. The
// host keeps the latest data and posts it only while the panel is visible, so a hidden report
// costs nothing; the webview keeps what it showed with setState, so a reload shows it again.
import * as vscode from 'vscode';
import { reportPage } from './html.js';
import { parseFromWebview, type ActionMessage } from './protocol.js';

/** A kind of report: its panel type (which the serializer revives) and its bundle's name. */
export interface ReportKind {
  viewType: string;
  /** `imageReport` for dist/webview/imageReport.js and .css. */
  bundle: string;
}

/** What a webview may load: its bundles and the icons, nothing from the workspace. */
export function reportOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableFindWidget: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

export class ReportPanel<D> implements vscode.Disposable {
  private data: D | undefined;
  /** Whether the webview has the current data. */
  private delivered = false;
  private readonly actions = new vscode.EventEmitter<ActionMessage>();
  /** The webview's buttons: an action the report names, with the strings it sent. */
  readonly onAction = this.actions.event;
  private readonly visibility = new vscode.EventEmitter<boolean>();
  readonly onDidChangeVisibility = this.visibility.event;
  readonly onDidDispose: vscode.Event<void>;
  private readonly subscriptions: vscode.Disposable[];

  /** A new panel beside the editor the user is in (or in `column`). */
  static create<D>(extensionUri: vscode.Uri, kind: ReportKind, title: string, column = vscode.ViewColumn.Active): ReportPanel<D> {
    const panel = vscode.window.createWebviewPanel(kind.viewType, title, { viewColumn: column, preserveFocus: false }, reportOptions(extensionUri));
    return new ReportPanel<D>(extensionUri, kind, panel);
  }

  /** A panel VS Code restored after a reload: its page again; the webview shows its saved state meanwhile. */
  static revive<D>(extensionUri: vscode.Uri, kind: ReportKind, panel: vscode.WebviewPanel): ReportPanel<D> {
    panel.webview.options = reportOptions(extensionUri);
    return new ReportPanel<D>(extensionUri, kind, panel);
  }

  private constructor(extensionUri: vscode.Uri, kind: ReportKind, readonly panel: vscode.WebviewPanel) {
    const { webview } = panel;
    const bundle = (ext: string): string => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', `${kind.bundle}.${ext}`)).toString();
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'lazy-images.svg');
    webview.html = reportPage({ cspSource: webview.cspSource, script: bundle('js'), style: bundle('css'), title: panel.title });
    this.onDidDispose = panel.onDidDispose;
    this.subscriptions = [
      this.actions,
      this.visibility,
      webview.onDidReceiveMessage((raw: unknown) => this.received(raw)),
      panel.onDidChangeViewState(({ webviewPanel }) => {
        if (webviewPanel.visible) this.deliver();
        this.visibility.fire(webviewPanel.visible);
      }),
      panel.onDidDispose(() => this.dispose()),
    ];
  }

  get visible(): boolean {
    return this.panel.visible;
  }

  /** The report's data from now on; the webview gets it now if visible, else when next shown. */
  show(data: D, title?: string): void {
    this.data = data;
    this.delivered = false;
    if (title !== undefined) this.panel.title = title;
    this.deliver();
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
  }

  private deliver(): void {
    if (this.delivered || this.data === undefined || !this.panel.visible) return;
    this.delivered = true;
    void this.panel.webview.postMessage({ type: 'show', data: this.data });
  }

  private received(raw: unknown): void {
    const message = parseFromWebview(raw);
    if (!message) return;
    if (message.type === 'ready') {
      // A page loaded (first time, or again after being moved): it has nothing until told.
      this.delivered = false;
      this.deliver();
    } else if (message.type === 'copy') {
      void vscode.env.clipboard.writeText(message.text).then(() => vscode.window.setStatusBarMessage(`Copied ${message.text}`, 3000));
    } else {
      this.actions.fire(message);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
    this.panel.dispose();
  }
}
