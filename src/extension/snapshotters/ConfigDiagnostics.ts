// A snapshotter daemon's config.toml, checked as the daemon will read it when it is opened and
// each time it is saved: syntax errors, keys of the wrong type, values out of their set and
// unknown keys show as diagnostics on their lines.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { SNAPSHOTTER_KINDS, type Snapshotters } from './Snapshotters.js';

export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('lazyImages.snapshotterConfig');
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly snapshotters: Snapshotters) {
    this.disposables = [
      vscode.workspace.onDidOpenTextDocument((doc) => void this.check(doc)),
      vscode.workspace.onDidSaveTextDocument((doc) => void this.check(doc)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.collection.delete(doc.uri)),
    ];
    for (const doc of vscode.workspace.textDocuments) void this.check(doc);
  }

  /** Checks the document if it is the config of a daemon in the settings. */
  async check(doc: vscode.TextDocument): Promise<void> {
    // Only a config.toml can be one: nothing is loaded for other files.
    if (doc.uri.scheme !== 'file' || basename(doc.uri.fsPath) !== 'config.toml') return;
    for (const kind of SNAPSHOTTER_KINDS) {
      if ((await this.snapshotters.place(kind)).config !== doc.uri.fsPath) continue;
      const core = await this.snapshotters.load();
      const { problems } = core.checkDaemonConfig(core.PROFILES[kind], doc.getText(), doc.uri.fsPath);
      this.collection.set(doc.uri, problems.map((p) => {
        const line = doc.lineAt(Math.min(Math.max((p.line ?? 1) - 1, 0), doc.lineCount - 1));
        const d = new vscode.Diagnostic(line.range, p.message, p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
        d.source = `${kind} snapshotter`;
        return d;
      }));
      // The tree's config row counts the problems of the saved file.
      void this.snapshotters.read(kind);
      return;
    }
  }

  dispose(): void {
    this.collection.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
