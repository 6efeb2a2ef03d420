// One analysis per Dockerfile version, shared by the lenses, diagnostics and quick fixes; and the
// image a Dockerfile was built into, for the layer report: its layers are read once per chosen
// image (not per edit), and onDidChange fires when they arrive, so lenses redraw with them.
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { analyzeDockerfile, buildContext, mapLayers, smallLayerFindings, type Analysis, type Finding, type LayerMapping, type Range, type RuleGroup, type TextEdit } from '../../core/dockerfile/index.js';
import { imageLaziness, type ImageLaziness } from '../../core/image/index.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import type { Services } from '../Services.js';

const IMAGES_KEY = 'lazyImages.dockerfileImages';

export class DockerfileAnalyzer implements vscode.Disposable {
  private readonly cache = new Map<string, { version: number; analysis: Analysis }>();
  /** By Dockerfile URI: the chosen image's layers, loading or loaded. */
  private readonly images = new Map<string, LoadingImage>();
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when what the lenses show changes without an edit (settings, a chosen image, its layers arriving). */
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
      ...(context ? buildContext(context) : {}),
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

  /** Ties the image to the Dockerfile (or, with none, unties it): its lenses and findings follow. */
  async setImage(document: vscode.TextDocument, ref: ImageReference | undefined): Promise<void> {
    const key = document.uri.toString();
    const all = { ...this.state.get<Record<string, ImageReference>>(IMAGES_KEY, {}) };
    if (ref) all[key] = ref;
    else delete all[key];
    await this.state.update(IMAGES_KEY, all);
    this.images.delete(key);
    this.changed.fire();
  }

  /**
   * The layer report as it stands: undefined without an image; `loading` until the image's layers
   * arrive (onDidChange fires then); else the mapping, or why it failed.
   */
  layerState(document: vscode.TextDocument): LayerState | undefined {
    const image = this.imageOf(document);
    if (!image) return undefined;
    if (!image.settled) return { loading: true };
    if (image.settled.error !== undefined) return { loading: false, error: image.settled.error };
    return { loading: false, mapping: mapLayers(this.analyze(document).model, image.settled.value!) };
  }

  /** The layer report, once the image's layers have arrived. */
  async layerReport(document: vscode.TextDocument): Promise<LayerMapping | undefined> {
    const image = this.imageOf(document);
    if (!image) return undefined;
    return mapLayers(this.analyze(document).model, await image.laziness);
  }

  /** The chosen image's layers, read on first use and kept until another image is chosen. */
  private imageOf(document: vscode.TextDocument): LoadingImage | undefined {
    const ref = this.image(document);
    if (!ref) return undefined;
    const key = document.uri.toString();
    const reference = formatReference(ref);
    let image = this.images.get(key);
    if (image?.reference !== reference) {
      const laziness = (async () => {
        this.services.log.info(`Layer report of ${document.uri.fsPath} from ${reference}`);
        return imageLaziness(await this.services.stores.open(ref), ref.digest ?? ref.tag);
      })();
      const loading: LoadingImage = { reference, laziness };
      laziness.then((value) => (loading.settled = { value }), (error: unknown) => (loading.settled = { error })).finally(() => {
        if (this.images.get(key) === loading) this.changed.fire();
      });
      this.images.set(key, loading);
      image = loading;
    }
    return image;
  }

  /** Findings that need the image: neighbouring small layers. */
  async imageFindings(document: vscode.TextDocument): Promise<Finding[]> {
    const report = await this.layerReport(document);
    return report ? smallLayerFindings(this.analyze(document).model, report) : [];
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

export type LayerState = { loading: true } | { loading: false; mapping?: LayerMapping; error?: unknown };

interface LoadingImage {
  reference: string;
  laziness: Promise<ImageLaziness>;
  settled?: { value?: ImageLaziness; error?: unknown };
}
