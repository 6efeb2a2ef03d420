// One analysis per Dockerfile version, shared by the lenses, diagnostics and quick fixes; and the
// image a Dockerfile was built into, for the layer report.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { analyzeDockerfile, mapLayers, smallLayerFindings, type Analysis, type Finding, type LayerMapping, type Range, type RuleGroup, type TextEdit } from '../../core/dockerfile/index.js';
import { imageLaziness } from '../../core/image/index.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import type { Services } from '../Services.js';

const IMAGES_KEY = 'lazyImages.dockerfileImages';

export class DockerfileAnalyzer implements vscode.Disposable {
  private readonly cache = new Map<string, { version: number; analysis: Analysis }>();
  private readonly reports = new Map<string, Promise<LayerMapping>>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when what the lenses show changes without an edit (settings, a chosen image). */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly services: Services, private readonly state: vscode.Memento) {
    this.disposables.push(
      vscode.workspace.onDidCloseTextDocument((d) => this.cache.delete(d.uri.toString())),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('lazyImages.dockerfile')) return;
        this.cache.clear();
        this.changed.fire();
      }),
    );
  }

  analyze(document: vscode.TextDocument): Analysis {
    const key = document.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === document.version) return hit.analysis;
    const context = document.uri.scheme === 'file' ? dirname(document.uri.fsPath) : undefined;
    const analysis = analyzeDockerfile(document.getText(), {
      disabledGroups: this.disabledGroups(),
      ...(context ? { exists: (p: string) => existsSync(join(context, p)) } : {}),
    });
    this.cache.set(key, { version: document.version, analysis });
    return analysis;
  }

  private disabledGroups(): RuleGroup[] {
    const groups = vscode.workspace.getConfiguration('lazyImages.dockerfile').get<Record<string, boolean>>('ruleGroups', {});
    return (Object.entries(groups) as Array<[RuleGroup, boolean]>).filter(([, on]) => on === false).map(([g]) => g);
  }

  /** The image this Dockerfile was built into, if the user named one. */
  image(document: vscode.TextDocument): ImageReference | undefined {
    return this.state.get<Record<string, ImageReference>>(IMAGES_KEY, {})[document.uri.toString()];
  }

  async setImage(document: vscode.TextDocument, ref: ImageReference): Promise<void> {
    const all = { ...this.state.get<Record<string, ImageReference>>(IMAGES_KEY, {}), [document.uri.toString()]: ref };
    await this.state.update(IMAGES_KEY, all);
    this.reports.delete(document.uri.toString());
    this.changed.fire();
  }

  /** The layer report for the document's image (fetched once per document version). */
  layerReport(document: vscode.TextDocument): Promise<LayerMapping> | undefined {
    const ref = this.image(document);
    if (!ref) return undefined;
    const key = `${document.uri.toString()}@${document.version}`;
    let report = this.reports.get(key);
    if (!report) {
      const { model } = this.analyze(document);
      report = (async () => {
        const store = await this.services.stores.open(ref);
        this.services.log.info(`Layer report of ${document.uri.fsPath} from ${formatReference(ref)}`);
        return mapLayers(model, await imageLaziness(store, ref.digest ?? ref.tag));
      })();
      this.reports.set(key, report);
      report.catch(() => this.reports.delete(key));
    }
    return report;
  }

  /** Findings that need the image: neighbouring small layers. */
  async imageFindings(document: vscode.TextDocument): Promise<Finding[]> {
    const report = this.layerReport(document);
    if (!report) return [];
    return smallLayerFindings(this.analyze(document).model, await report);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

export function toRange(r: Range): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export function toWorkspaceEdit(uri: vscode.Uri, edits: TextEdit[]): vscode.WorkspaceEdit {
  const edit = new vscode.WorkspaceEdit();
  for (const e of edits) edit.replace(uri, toRange(e.range), e.newText);
  return edit;
}
