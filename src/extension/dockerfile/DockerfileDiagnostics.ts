// The same findings as Hint / Information diagnostics (Problems view, squiggles), and quick fixes
// that apply the same edits as the lenses.
import * as vscode from 'vscode';
import type { Finding } from '../../core/dockerfile/index.js';
import { type DockerfileAnalyzer, toRange, toWorkspaceEdit } from './DockerfileAnalyzer.js';

const DEBOUNCE_MS = 300;

export class DockerfileDiagnostics implements vscode.CodeActionProvider, vscode.Disposable {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];
  private readonly collection = vscode.languages.createDiagnosticCollection('lazy-images');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [this.collection];

  constructor(private readonly analyzer: DockerfileAnalyzer) {
    const update = (d: vscode.TextDocument): void => {
      if (d.languageId !== 'dockerfile') return;
      const key = d.uri.toString();
      clearTimeout(this.timers.get(key));
      this.timers.set(key, setTimeout(() => this.update(d), DEBOUNCE_MS));
    };
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument(update),
      vscode.workspace.onDidChangeTextDocument((e) => update(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
      analyzer.onDidChange(() => vscode.workspace.textDocuments.forEach(update)),
    );
    vscode.workspace.textDocuments.forEach(update);
  }

  private async update(document: vscode.TextDocument): Promise<void> {
    const { findings } = this.analyzer.analyze(document);
    const all = [...findings, ...(await this.analyzer.imageFindings(document).catch(() => []))];
    this.collection.set(document.uri, all.map(toDiagnostic));
  }

  provideCodeActions(document: vscode.TextDocument, range: vscode.Range | vscode.Selection, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const { findings } = this.analyzer.analyze(document);
    return findings
      .filter((f) => f.fix && context.diagnostics.some((d) => d.source === 'Lazy Images' && d.code === f.ruleId && d.range.intersection(range)))
      .filter((f) => toRange(f.range).intersection(range))
      .map((f) => {
        const action = new vscode.CodeAction(f.fix?.title ?? '', vscode.CodeActionKind.QuickFix);
        action.edit = toWorkspaceEdit(document.uri, f.fix?.edits ?? []);
        action.diagnostics = context.diagnostics.filter((d) => d.code === f.ruleId);
        action.isPreferred = true;
        return action;
      });
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

function toDiagnostic(f: Finding): vscode.Diagnostic {
  const severity = f.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : f.severity === 'information' ? vscode.DiagnosticSeverity.Information : vscode.DiagnosticSeverity.Hint;
  const d = new vscode.Diagnostic(toRange(f.range), `${f.message}. ${f.rationale}`, severity);
  d.source = 'Lazy Images';
  d.code = f.ruleId;
  return d;
}
