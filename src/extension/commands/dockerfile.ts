// Dockerfile commands behind the lenses and the palette: apply a fix, explain a suggestion, write
// the eStargz prioritize list, and the layer report of an image built from the file.
import { writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as vscode from 'vscode';
import type { Finding, TextEdit } from '../../core/dockerfile/index.js';
import { count, formatBytes } from '../../core/format.js';
import { describeLaziness } from '../../core/image/index.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import { toWorkspaceEdit } from '../dockerfile/DockerfileAnalyzer.js';
import { workspaceDockerfiles } from '../dockerfile/workspaceDockerfiles.js';
import type { Node } from '../tree/nodes.js';
import type { CommandDeps } from './deps.js';
import { imageOrPick } from './pickImage.js';
import { askReference } from './prompts.js';

/**
 * The Dockerfile a command is about: the one it was run on, the one being edited, or the one the
 * user picks among those open and those in the workspace.
 */
async function dockerfile(uri: vscode.Uri | undefined, title: string): Promise<vscode.TextDocument | undefined> {
  if (uri) return vscode.workspace.openTextDocument(uri);
  const active = vscode.window.activeTextEditor?.document;
  if (active?.languageId === 'dockerfile') return active;
  const open = vscode.workspace.textDocuments.filter((d) => d.languageId === 'dockerfile').map((d) => d.uri);
  const found = await workspaceDockerfiles();
  const candidates = [...new Map([...open, ...found].map((u) => [u.toString(), u])).values()];
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage('Open the Dockerfile this is about first.');
    return undefined;
  }
  const picked = candidates.length === 1 ? { uri: candidates[0]! } : await vscode.window.showQuickPick(
    candidates.map((u) => ({ label: vscode.workspace.asRelativePath(u), uri: u })),
    { title, placeHolder: 'Which Dockerfile?' },
  );
  return picked && vscode.workspace.openTextDocument(picked.uri);
}

export function dockerfileCommands({ services, analyzer, reports }: CommandDeps) {
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
    await reports.show({ title: `${basename(document.uri.fsPath)} layers`, subject: document.uri.toString(), markdown: content }, vscode.ViewColumn.Beside);
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

    /** Writes the lens's paths beside the Dockerfile, once the user said yes (or copies them instead). */
    async writePrioritizeList(uri: vscode.Uri, files: string[]): Promise<void> {
      const target = vscode.Uri.file(join(dirname(uri.fsPath), `${basename(uri.fsPath)}.prioritize`));
      const exists = await vscode.workspace.fs.stat(target).then(() => true, () => false);
      const write = exists ? 'Replace File' : 'Write File';
      const choice = await vscode.window.showInformationMessage(
        `${exists ? 'Replace' : 'Create'} ${basename(target.fsPath)} with ${count(files.length, 'path')} to prefetch?`,
        { modal: true, detail: `${files.join('\n')}\n\nConvert to eStargz... offers these paths, and lazyimg convert reads them with --prioritize-file.` },
        write, 'Copy Paths',
      );
      if (choice === 'Copy Paths') {
        await vscode.env.clipboard.writeText(`${files.join('\n')}\n`);
        vscode.window.setStatusBarMessage(`$(check) Copied ${count(files.length, 'path')}`, 3000);
        return;
      }
      if (choice !== write) return;
      await writeFile(target.fsPath, `${files.join('\n')}\n`);
      await vscode.window.showTextDocument(target);
    },

    /** From the tree: the image becomes the built image of the Dockerfile being edited (or picked). */
    async useForLayerReport(node?: Node): Promise<void> {
      const document = await dockerfile(undefined, 'Use for Dockerfile Layer Report');
      const ref = document && await imageOrPick(services, node, `The image built from ${basename(document.uri.fsPath)}`);
      if (document && ref) await showReport(document, ref);
    },

    async showLayerReport(uri?: vscode.Uri): Promise<void> {
      const document = await dockerfile(uri, 'Show Layer Report');
      if (!document) return;
      const current = analyzer.image(document);
      const ref = await askReference('Layer Report', 'The image built from this Dockerfile', current ? formatReference(current) : undefined);
      if (ref) await showReport(document, ref);
    },

    /** Unties the image from the Dockerfile: its layer lenses and image findings go. */
    async clearLayerReport(uri?: vscode.Uri): Promise<void> {
      const document = await dockerfile(uri, 'Clear Dockerfile Layer Report');
      if (!document) return;
      const current = analyzer.image(document);
      await analyzer.setImage(document, undefined);
      void vscode.window.showInformationMessage(current ? `${basename(document.uri.fsPath)} no longer shows the layers of ${formatReference(current)}.` : `${basename(document.uri.fsPath)} had no layer report.`);
    },
  };
}
