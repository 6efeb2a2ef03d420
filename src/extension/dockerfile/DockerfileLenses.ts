// Code lenses on Dockerfiles: a fix to apply, or a suggestion to read, on the line it is about;
// with an image chosen, each layer-creating line also says its layer's size and how it is pulled
// (first "reading the layers...", then redrawn when they arrive: the analyzer says when). Where a
// startup profile was recorded for the file, it replaces the prioritize list guessed from the
// entrypoint: a recording saw what the workload really read.
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { count, formatBytes } from '../../core/format.js';
import type { InstructionLayer } from '../../core/dockerfile/index.js';
import { createsLayer } from '../../core/dockerfile/index.js';
import { describeError } from '../../core/errors.js';
import { describeLaziness } from '../../core/image/index.js';
import { shellLine } from '../commandLine.js';
import { type DockerfileAnalyzer, type LayerState, toRange } from './DockerfileAnalyzer.js';
import type { SavedProfile, StartupProfiles } from './StartupProfiles.js';

export class DockerfileLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly analyzer: DockerfileAnalyzer, private readonly profiles: StartupProfiles) {
    this.disposables = [this.changed, analyzer.onDidChange(() => this.changed.fire()), profiles.onDidChange(() => this.changed.fire())];
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const { model, findings } = this.analyzer.analyze(document);
    const saved = await this.profiles.get(document.uri);
    const lenses = findings.map((f) => {
      const range = toRange(f.range);
      if (f.fix) return new vscode.CodeLens(range, { title: `$(lightbulb) ${f.fix.title}`, tooltip: f.message, command: 'lazyImages.applyDockerfileFix', arguments: [document.uri, document.version, f.fix.edits] });
      if (f.files?.length && saved) return profileLens(range, document.uri, saved);
      if (f.files?.length) return new vscode.CodeLens(range, { title: `$(rocket) Prioritize ${count(f.files.length, 'file')} for eStargz`, tooltip: f.message, command: 'lazyImages.writePrioritizeList', arguments: [document.uri, f.files] });
      return new vscode.CodeLens(range, { title: `$(info) ${shorten(f.message)}`, tooltip: f.rationale, command: 'lazyImages.explainFinding', arguments: [f] });
    });
    // No entrypoint to guess from: the profile's lens goes on the final stage's FROM.
    const from = model.stages.at(-1)?.from;
    if (saved && from && !findings.some((f) => f.files?.length)) lenses.push(profileLens(toRange(from.range), document.uri, saved));
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

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

function profileLens(range: vscode.Range, dockerfile: vscode.Uri, saved: SavedProfile): vscode.CodeLens {
  const name = basename(saved.uri.fsPath);
  if ('error' in saved) return new vscode.CodeLens(range, { title: `$(warning) ${name} is not a startup profile`, tooltip: saved.error, command: 'vscode.open', arguments: [saved.uri] });
  const files = saved.profile.files.length;
  return new vscode.CodeLens(range, {
    title: `$(rocket) Convert with the recorded startup profile (${count(files, 'file')})`,
    tooltip: `${name}: the files ${shorten(shellLine(saved.profile.run.args))} read as it started, each to go first in its layer and be prefetched`,
    command: 'lazyImages.convertWithStartupProfile',
    arguments: [dockerfile],
  });
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
