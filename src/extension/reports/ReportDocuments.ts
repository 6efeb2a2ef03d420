// Read-only Markdown reports (`lazyimg-report:` URIs): lazy pull readiness (made by a job on the
// worker) and Dockerfile layer reports. A document shows the last report of its kind for its
// subject, so showing it again updates it in place; nothing is ever an unsaved Untitled file.
import * as vscode from 'vscode';

export const REPORT_SCHEME = 'lazyimg-report';
/** Reports kept for their open documents; the oldest go first. */
const KEEP = 20;

/** A report: the tab's name, what it is about (an image reference, a Dockerfile's URI), its text. */
export interface Report {
  title: string;
  subject: string;
  markdown: string;
}

export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly reports = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  /** Stores a report and opens (or updates) its document: one document per title and subject. */
  async show({ title, subject, markdown }: Report, column?: vscode.ViewColumn): Promise<void> {
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${title.replace(/[\\/?#]/g, '_')}.md`, query: subject });
    const key = uri.toString();
    this.reports.delete(key);
    this.reports.set(key, markdown);
    for (const old of [...this.reports.keys()].slice(0, -KEEP)) this.reports.delete(old);
    this.changed.fire(uri);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true, viewColumn: column });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.reports.get(uri.toString()) ?? 'This report is no longer kept: run its command again.\n';
  }

  dispose(): void {
    this.changed.dispose();
  }
}
