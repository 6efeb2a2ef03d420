// The image report panels, one per reference: inspect's answer for the table, the last verify of
// the image (from Verify Lazy Pull Readiness or Verify Deeply), and the lazy reads of this window,
// which update an open report as they happen. A hidden report does nothing: what changed while it
// was hidden is done once it shows. After a window reload the saved reference and verification
// come back with the panel, and the host inspects the image again.
import * as vscode from 'vscode';
import { describeError } from '../../core/errors.js';
import { inspectImage, type InspectResult } from '../../core/jobs/index.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import type { VerifyResult } from '../../worker/protocol.js';
import { shortName } from '../commands/jobParams.js';
import type { LayerReads } from '../browse/LazyReads.js';
import { imageReportView } from '../reports/imageReport.js';
import type { Services } from '../Services.js';
import { imageNode } from '../tree/nodes.js';
import { REPORT_ACTIONS, type ImageReportData, type ImageReportView, type ReportAction } from './imageReportData.js';
import type { ReportPanel } from './ReportPanel.js';
import { ReportPanels } from './ReportPanels.js';

const KIND = { viewType: 'lazyImages.imageReport', bundle: 'imageReport' };
/** The commands behind the report's buttons; each runs on the report's image as if on its tree row. */
const COMMANDS: Record<Exclude<ReportAction, 'refresh'>, string> = {
  convert: 'lazyImages.convertToEstargz',
  index: 'lazyImages.buildSociIndex',
  verify: 'lazyImages.verifyLazyPull',
  verifyDeep: 'lazyImages.verifyDeep',
};
/** Reads arrive in bursts (a file of many chunks, a folder opened): redraw at most this often. */
const READS_EVERY_MS = 250;

interface Data extends ImageReportData {
  ref: ImageReference;
  verify?: VerifyResult;
}

/** An open report: its image and what the host knows of it. */
interface Subject {
  panel: ReportPanel<Data>;
  ref: ImageReference;
  verify?: VerifyResult;
  inspect?: InspectResult;
  /** The store's name, which lazy reads are recorded under. */
  store?: string;
  /** Work put off while hidden: draw again, or inspect again. */
  owed?: 'draw' | 'load';
  /** Counts loads, so a slow one does not overwrite a newer one. */
  loads: number;
  timer?: NodeJS.Timeout;
}

export class ImageReports implements vscode.Disposable {
  private readonly panels: ReportPanels<Data>;
  private readonly subjects = new Map<ReportPanel<Data>, Subject>();
  private readonly stopReads: () => void;

  constructor(extensionUri: vscode.Uri, private readonly services: Services) {
    this.panels = new ReportPanels<Data>(extensionUri, KIND, (d) => formatReference(d.ref), (panel, saved) => {
      const ref = savedReference(saved?.ref);
      // A page that never got its data has nothing to be the report of.
      if (!ref) return panel.dispose();
      this.attach(panel, ref, savedVerify(saved?.verify));
    });
    this.stopReads = services.reads.onRecord((store, digest) => this.readsChanged(store, digest));
  }

  /** Opens the report of `ref` (or brings it to the front); with `verify`, that verification shows in it. */
  async show(ref: ImageReference, verify?: VerifyResult): Promise<void> {
    const panel = this.panels.open(formatReference(ref), title(ref));
    const subject = this.subjects.get(panel);
    if (!subject) return this.attach(panel, ref, verify);
    if (verify) subject.verify = verify;
    return this.load(subject);
  }

  private attach(panel: ReportPanel<Data>, ref: ImageReference, verify: VerifyResult | undefined): Promise<void> {
    const subject: Subject = { panel, ref, verify, loads: 0 };
    this.subjects.set(panel, subject);
    panel.onAction(({ action }) => this.act(subject, action));
    panel.onDidChangeVisibility((visible) => {
      if (!visible || !subject.owed) return;
      const owed = subject.owed;
      subject.owed = undefined;
      if (owed === 'load') void this.load(subject);
      else this.draw(subject);
    });
    panel.onDidDispose(() => {
      clearTimeout(subject.timer);
      this.subjects.delete(panel);
    });
    return this.load(subject);
  }

  /** Inspects the image again (the tag may have moved) and draws the report. */
  private async load(subject: Subject): Promise<void> {
    if (!subject.panel.visible) {
      subject.owed = 'load';
      return;
    }
    const loads = ++subject.loads;
    const reference = formatReference(subject.ref);
    if (!subject.inspect) subject.panel.show(this.data(subject), title(subject.ref));
    try {
      const store = await this.services.stores.open(subject.ref);
      const inspect = await inspectImage(store, subject.ref.digest ?? subject.ref.tag, reference);
      if (loads !== subject.loads) return;
      Object.assign(subject, { inspect, store: store.name });
      this.draw(subject);
    } catch (e) {
      if (loads !== subject.loads) return;
      this.services.log.error(`Image report of ${reference}: ${describeError(e)}`);
      subject.panel.show({ ...this.data(subject), error: describeError(e) });
    }
  }

  private draw(subject: Subject): void {
    subject.panel.show(this.data(subject));
  }

  private data(subject: Subject): Data {
    const view = this.view(subject);
    const { ref, verify } = subject;
    return { reference: formatReference(ref), ref, ...(verify ? { verify } : {}), ...(view ? { view } : {}) };
  }

  private view(subject: Subject): ImageReportView | undefined {
    const { inspect, store } = subject;
    if (!inspect) return undefined;
    const fetched = (digest: string): LayerReads | undefined => this.services.reads.get(store ?? '', digest);
    try {
      return imageReportView(inspect, subject.verify, fetched);
    } catch (e) {
      // A saved verification this version cannot read (or a page's state that was tampered with): not verified.
      this.services.log.warn(`Image report of ${formatReference(subject.ref)}: dropped its saved verification (${describeError(e)})`);
      subject.verify = undefined;
      return imageReportView(inspect, undefined, fetched);
    }
  }

  private readsChanged(store: string, digest: string): void {
    for (const subject of this.subjects.values()) {
      if (subject.store !== store || !subject.inspect?.manifests.some((m) => m.layers.some((l) => l.digest === digest))) continue;
      if (!subject.panel.visible) {
        subject.owed ??= 'draw';
        continue;
      }
      subject.timer ??= setTimeout(() => {
        subject.timer = undefined;
        if (subject.panel.visible) this.draw(subject);
        else subject.owed ??= 'draw';
      }, READS_EVERY_MS);
    }
  }

  /** A button of the page: only the report's own actions, always on the report's own image. */
  private act(subject: Subject, action: string): void {
    if (!(REPORT_ACTIONS as readonly string[]).includes(action)) return;
    if (action === 'refresh') {
      void this.load(subject);
      return;
    }
    void vscode.commands.executeCommand(COMMANDS[action as keyof typeof COMMANDS], imageNode(subject.ref, shortName(subject.ref)));
  }

  /** The panels stay open: at a window reload VS Code restores them through the serializer. */
  dispose(): void {
    this.stopReads();
    for (const subject of this.subjects.values()) clearTimeout(subject.timer);
    this.panels.dispose();
  }
}

function title(ref: ImageReference): string {
  return `${shortName(ref)} image report`;
}

/** The reference a restored page saved, if it has the shape of one (the page's state is not trusted). */
function savedReference(value: unknown): ImageReference | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const text = (k: string): boolean => r[k] === undefined || typeof r[k] === 'string';
  if (!text('tag') || !text('digest')) return undefined;
  if (r.kind === 'registry' && typeof r.registry === 'string' && typeof r.repository === 'string') {
    return { kind: 'registry', registry: r.registry, repository: r.repository, ...tagAndDigest(r) };
  }
  if (r.kind === 'oci-layout' && typeof r.path === 'string') return { kind: 'oci-layout', path: r.path, ...tagAndDigest(r) };
  return undefined;
}

function tagAndDigest(r: Record<string, unknown>): { tag?: string; digest?: string } {
  return { ...(typeof r.tag === 'string' ? { tag: r.tag } : {}), ...(typeof r.digest === 'string' ? { digest: r.digest } : {}) };
}

/** A saved verification, if it has the shape the report reads; else the report says it is not verified. */
function savedVerify(value: unknown): VerifyResult | undefined {
  const v = value as Partial<VerifyResult> | undefined;
  const ok = typeof v === 'object' && v !== null && typeof v.digest === 'string' && Array.isArray(v.problems) && Array.isArray(v.layers) && (v.soci === undefined || Array.isArray(v.soci));
  return ok ? v as VerifyResult : undefined;
}
