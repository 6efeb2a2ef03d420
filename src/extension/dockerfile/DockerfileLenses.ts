// Code lenses on Dockerfiles: a fix to apply, or a suggestion to read, on the line it is about;
// with an image chosen, each layer-creating line also says its layer's size and how it is pulled
// (first "reading the layers...", then redrawn when they arrive: the analyzer says when).
import * as vscode from 'vscode';
import { count, formatBytes } from '../../core/format.js';
import type { InstructionLayer } from '../../core/dockerfile/index.js';
import { createsLayer } from '../../core/dockerfile/index.js';
import { describeError } from '../../core/errors.js';
import { describeLaziness } from '../../core/image/index.js';
import { type DockerfileAnalyzer, type LayerState, toRange } from './DockerfileAnalyzer.js';

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
      if (f.files?.length) return new vscode.CodeLens(range, { title: `$(rocket) Prioritize ${count(f.files.length, 'file')} for eStargz`, tooltip: f.message, command: 'lazyImages.writePrioritizeList', arguments: [document.uri, f.files] });
      return new vscode.CodeLens(range, { title: `$(info) ${shorten(f.message)}`, tooltip: f.rationale, command: 'lazyImages.explainFinding', arguments: [f] });
    });
    const state = this.analyzer.layerState(document);
    if (state) {
      const final = model.stages.at(-1);
      for (const ins of final?.instructions.filter(createsLayer) ?? []) {
        const line = ins.range.start.line;
        lenses.push(new vscode.CodeLens(new vscode.Range(line, 0, line, 0), { title: layerLensTitle(state, line), command: 'lazyImages.showLayerReport', arguments: [document.uri] }));
      }
    }
    return lenses;
  }
}

function layerLensTitle(state: LayerState, line: number): string {
  if (state.loading) return '$(sync~spin) Reading the image\'s layers...';
  if (state.error !== undefined) return `$(error) Layer report failed: ${shorten(describeError(state.error))}`;
  const layer = state.mapping?.layers.find((l) => l.instruction.range.start.line === line);
  return layer ? layerTitle(layer) : `$(warning) ${state.mapping?.problem ?? 'no layer found for this line'}`;
}

function layerTitle(entry: InstructionLayer): string {
  const icon = entry.layer.reason ? '$(package)' : '$(cloud-download)';
  return `${icon} ${formatBytes(entry.layer.descriptor.size)} · ${describeLaziness(entry.layer)}`;
}

function shorten(text: string): string {
  return text.length > 90 ? `${text.slice(0, 87)}...` : text;
}
