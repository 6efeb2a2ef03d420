// Code lenses on Dockerfiles: a fix to apply, or a suggestion to read, on the line it is about;
// with an image chosen, each layer-creating line also says its layer's size and how it is pulled
// (fetched in resolveCodeLens, never while the lenses are first drawn).
import * as vscode from 'vscode';
import { formatBytes } from '../../core/format.js';
import type { InstructionLayer } from '../../core/dockerfile/index.js';
import { createsLayer } from '../../core/dockerfile/index.js';
import { describeError } from '../../core/errors.js';
import { describeLaziness } from '../../core/image/index.js';
import { type DockerfileAnalyzer, toRange } from './DockerfileAnalyzer.js';

class LayerLens extends vscode.CodeLens {
  constructor(range: vscode.Range, readonly document: vscode.TextDocument, readonly line: number) {
    super(range);
  }
}

export class DockerfileLenses implements vscode.CodeLensProvider {
  readonly onDidChangeCodeLenses: vscode.Event<void>;

  constructor(private readonly analyzer: DockerfileAnalyzer) {
    this.onDidChangeCodeLenses = analyzer.onDidChange;
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const { model, findings } = this.analyzer.analyze(document);
    const lenses = findings.map((f) => {
      const range = toRange(f.range);
      if (f.fix) return new vscode.CodeLens(range, { title: `$(lightbulb) ${f.fix.title}`, tooltip: f.message, command: 'lazyImages.applyDockerfileFix', arguments: [document.uri, document.version, f.fix.edits] });
      if (f.files?.length) return new vscode.CodeLens(range, { title: `$(rocket) Prioritize ${f.files.length} file${f.files.length > 1 ? 's' : ''} for eStargz`, tooltip: f.message, command: 'lazyImages.writePrioritizeList', arguments: [document.uri, f.files] });
      return new vscode.CodeLens(range, { title: `$(info) ${shorten(f.message)}`, tooltip: f.rationale, command: 'lazyImages.explainFinding', arguments: [f] });
    });
    if (this.analyzer.image(document)) {
      const final = model.stages.at(-1);
      for (const ins of final?.instructions.filter(createsLayer) ?? []) {
        lenses.push(new LayerLens(new vscode.Range(ins.range.start.line, 0, ins.range.start.line, 0), document, ins.range.start.line));
      }
    }
    return lenses;
  }

  async resolveCodeLens(lens: vscode.CodeLens): Promise<vscode.CodeLens> {
    if (!(lens instanceof LayerLens)) return lens;
    try {
      const report = await this.analyzer.layerReport(lens.document);
      const layer = report?.layers.find((l) => l.instruction.range.start.line === lens.line);
      lens.command = { title: layer ? layerTitle(layer) : `$(warning) ${report?.problem ?? 'no layer found for this line'}`, command: 'lazyImages.showLayerReport', arguments: [lens.document.uri] };
    } catch (e) {
      lens.command = { title: `$(error) Layer report failed: ${shorten(describeError(e))}`, command: 'lazyImages.showLayerReport', arguments: [lens.document.uri] };
    }
    return lens;
  }
}

export function layerTitle(entry: InstructionLayer): string {
  const icon = entry.layer.reason ? '$(package)' : '$(cloud-download)';
  return `${icon} ${formatBytes(entry.layer.descriptor.size)} · ${describeLaziness(entry.layer)}`;
}

function shorten(text: string): string {
  return text.length > 90 ? `${text.slice(0, 87)}...` : text;
}
