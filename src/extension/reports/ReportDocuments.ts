// Read-only Markdown documents of lazy pull readiness reports (`lazyimg-report:` URIs). The report
// is made by a job on the worker; the document shows the last one for its image.
import * as vscode from 'vscode';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import type { VerifyResult } from '../../worker/protocol.js';
import { shortName } from '../commands/jobParams.js';
import { renderLazyReport } from './lazyReport.js';

export const REPORT_SCHEME = 'lazyimg-report';
/** Reports kept for their open documents; the oldest go first. */
const KEEP = 20;

export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly reports = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  /** Stores the report and opens (or updates) its document. */
  async show(ref: ImageReference, result: VerifyResult): Promise<void> {
    const reference = formatReference(ref);
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/${shortName(ref).replace(/[\\/?#]/g, '_')} lazy pull.md`, query: reference });
    const key = uri.toString();
    this.reports.delete(key);
    this.reports.set(key, renderLazyReport(reference, result));
    for (const old of [...this.reports.keys()].slice(0, -KEEP)) this.reports.delete(old);
    this.changed.fire(uri);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri), { preview: true });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.reports.get(uri.toString()) ?? 'This report is no longer kept: run Verify Lazy Pull Readiness again.\n';
  }

  dispose(): void {
    this.changed.dispose();
  }
}
