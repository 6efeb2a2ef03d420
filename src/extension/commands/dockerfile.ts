// Dockerfile commands behind the lenses and the palette: apply a fix, explain a suggestion, write
// the eStargz prioritize list, and the layer report of an image built from the file.
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { Finding, TextEdit } from '../../core/dockerfile/index.js';
import { formatBytes } from '../../core/format.js';
import { describeLaziness } from '../../core/image/index.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import { type DockerfileAnalyzer, toWorkspaceEdit } from '../dockerfile/DockerfileAnalyzer.js';
import type { Node } from '../tree/nodes.js';
import { askReference } from './prompts.js';

async function dockerfile(uri: vscode.Uri | undefined): Promise<vscode.TextDocument | undefined> {
  if (uri) return vscode.workspace.openTextDocument(uri);
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === 'dockerfile') return active;
  void vscode.window.showInformationMessage('Open a Dockerfile first.');
  return undefined;
}

export function dockerfileCommands(analyzer: DockerfileAnalyzer) {
  /** Remembers the image for the document, and opens the report beside it. */
  async function showReport(document: vscode.TextDocument, ref: ImageReference): Promise<void> {
    await analyzer.setImage(document, ref);
    const report = await analyzer.layerReport(document);
    if (!report) return;
    const rows = report.layers.map((l) =>
      `| ${l.instruction.range.start.line + 1} | \`${l.instruction.keyword} ${l.instruction.args.slice(0, 60).replace(/\|/g, '\\|')}\` | ${formatBytes(l.layer.descriptor.size)} | ${describeLaziness(l.layer)} |`);
    const content = [
      `# Layer report: ${basename(document.uri.fsPath)}`,
      '',
      `Image: \`${formatReference(ref)}\``,
      ...(report.problem ? ['', `> ${report.problem}`] : []),
      '',
      '| line | instruction | layer | pulled |',
      '|---:|---|---:|---|',
      ...rows,
    ].join('\n');
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
  }

  return {
    async applyDockerfileFix(uri: vscode.Uri, version: number, edits: TextEdit[]): Promise<void> {
      const document = await vscode.workspace.openTextDocument(uri);
      if (document.version !== version) {
        void vscode.window.showWarningMessage('The Dockerfile changed since this suggestion was made; use the refreshed lens.');
        return;
      }
      await vscode.workspace.applyEdit(toWorkspaceEdit(uri, edits));
    },

    explainFinding(finding: Finding): void {
      void vscode.window.showInformationMessage(`${finding.message}. ${finding.rationale} (${finding.source})`);
    },

    async writePrioritizeList(uri: vscode.Uri, files: string[]): Promise<void> {
      const target = vscode.Uri.file(join(dirname(uri.fsPath), `${basename(uri.fsPath)}.prioritize`));
      await writeFile(target.fsPath, `${files.join('\n')}\n`);
      await vscode.window.showTextDocument(target);
      void vscode.window.showInformationMessage(`Wrote ${files.length} path(s) to ${basename(target.fsPath)}, for converting to eStargz with --prioritize-file.`);
    },

    /** From the tree: the image node becomes the active Dockerfile's built image. */
    async useForLayerReport(node?: Node): Promise<void> {
      if (node?.kind !== 'image' && node?.kind !== 'platform') return;
      const document = vscode.window.visibleTextEditors.map((e) => e.document).find((d) => d.languageId === 'dockerfile');
      if (!document) {
        void vscode.window.showInformationMessage('Open the Dockerfile this image was built from, then use this again.');
        return;
      }
      await showReport(document, node.ref);
    },

    async showLayerReport(uri?: vscode.Uri): Promise<void> {
      const document = await dockerfile(uri);
      if (!document) return;
      const current = analyzer.image(document);
      const ref = await askReference('Layer Report', 'The image built from this Dockerfile', current ? formatReference(current) : undefined);
      if (ref) await showReport(document, ref);
    },
  };
}
