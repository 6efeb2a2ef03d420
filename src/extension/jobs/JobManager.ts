// Runs worker jobs under a progress notification with a Cancel button, and keeps the list of
// running and recent jobs (outcome, duration) that the Jobs node shows.
import * as vscode from 'vscode';
import { describeError, LazyImageError } from '../../core/errors.js';
import { formatBytes } from '../../core/format.js';
import type { ImageReference, WrittenContent } from '../../core/oci/index.js';
import { writtenBefore } from '../../worker/client.js';
import type { Operation, ProgressItem, ProgressValue } from '../../worker/protocol.js';
import type { Report } from '../reports/ReportDocuments.js';
import type { WorkerHost } from './WorkerHost.js';

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What a job is, in words, and what it leaves behind to show. */
export interface JobSpec {
  /** In full, for the notification and the tooltip. */
  title: string;
  /** Short enough for a narrow tree. */
  label: string;
  /** The source's store: its registry, or its layout folder. */
  where: string;
  /** The image the job reads, and where it writes (for its report). */
  source?: ImageReference;
  destination?: ImageReference;
  /** What a job that makes lazy images makes: `eStargz`, `SOCI v2`; a job report describes those. */
  makes?: string;
  /** The image the job writes, for Reveal the New Tag. */
  reveals?: ImageReference;
  /** A protocol minor version the request needs (a param an older worker would ignore), and what for. */
  needs?: { version: string; what: string };
  /** A batch: the images it works on, when known up front (a repository's tags are not), for progress per image. */
  images?: number;
}

/** What a job's result means: in words, and as a report when it makes one. */
export interface JobOutcome<R> {
  summarize(result: R): string;
  report?(result: R): Report;
  /** Instead of a report document, a view of the result (a webview report) that Show Result opens. */
  view?(result: R): () => Promise<void>;
}

export interface JobRecord extends JobSpec {
  id: number;
  status: JobStatus;
  started: number;
  ended?: number;
  /** The outcome in words: a summary on success, the reason otherwise. */
  detail?: string;
  /** What the worker answered, for Show Result. */
  result?: unknown;
  /** The report the job made, which Show Result opens again. */
  report?: Report;
  /** Or the view of its result that Show Result opens. */
  view?: () => Promise<void>;
  /** The items of the last progress report: how far each layer got, for a job that did not end well. */
  progress?: ProgressItem[];
  /** What a job that failed or was cancelled left in its destination, as the worker said (protocol 1.7). */
  written?: WrittenContent[];
}

/** The job report (a webview), for the jobs it describes: their notifications offer Show Report. */
export interface JobReporter {
  describes(record: JobRecord): boolean;
  show(record: JobRecord): Promise<void>;
}

export type Severity = 'info' | 'warning' | 'error';

const KEEP = 20;
const SHOW_REPORT = 'Show Report';
const SHOW: Record<Severity, (message: string, ...items: string[]) => Thenable<string | undefined>> = {
  info: (message, ...items) => vscode.window.showInformationMessage(message, ...items),
  warning: (message, ...items) => vscode.window.showWarningMessage(message, ...items),
  error: (message, ...items) => vscode.window.showErrorMessage(message, ...items),
};
/** The item of an optimize job that counts the workload's run in milliseconds (protocol 8.6). */
const WORKLOAD_ITEM = 'workload';
/** The label of a batch's item for one image (protocol 9: `image i/n`). */
const BATCH_IMAGE_LABEL = /^image \d+\/\d+$/;

export class JobManager implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly records: JobRecord[] = [];
  private nextId = 1;

  constructor(private readonly worker: WorkerHost, private readonly log: vscode.LogOutputChannel, private readonly reporter?: JobReporter) {}

  /** Running and recent jobs, newest first. */
  get jobs(): readonly JobRecord[] {
    return this.records;
  }

  /** Forgets the jobs that have ended. */
  clearFinished(): void {
    const running = this.records.filter((r) => r.status === 'running');
    this.records.splice(0, this.records.length, ...running);
    this.changed.fire();
  }

  /**
   * Runs one operation on the worker. Resolves with its result, or undefined when it failed or was
   * cancelled (the user has been told; the Jobs list has the outcome, and Show Result its result
   * or report).
   */
  async run<R>(operation: Operation, job: JobSpec & JobOutcome<R>, params: object): Promise<R | undefined> {
    return (await this.runJob(operation, job, params)).result;
  }

  /** As `run`, also with the job's record (none when it never started), for `tell`. */
  async runJob<R>(operation: Operation, job: JobSpec & JobOutcome<R>, params: object): Promise<{ record?: JobRecord; result?: R }> {
    const { summarize, report, view, ...spec } = job;
    const { title } = spec;
    let supported: boolean;
    try {
      supported = await this.worker.supports(operation);
    } catch (e) {
      // The user refused to run the custom worker: nothing ran, nothing to report.
      if (e instanceof LazyImageError && e.code === 'CANCELLED') return {};
      throw e;
    }
    if (!supported) {
      void vscode.window.showErrorMessage(`The configured Lazy Images worker does not offer "${operation}".`);
      return {};
    }
    if (spec.needs) {
      const speaks = await this.worker.protocolVersion();
      if (minor(speaks) < minor(spec.needs.version)) {
        void vscode.window.showErrorMessage(`The configured Lazy Images worker speaks protocol ${speaks}; ${spec.needs.what} needs ${spec.needs.version}.`);
        return {};
      }
    }
    const record: JobRecord = { ...spec, id: this.nextId++, status: 'running', started: Date.now() };
    this.records.unshift(record);
    this.records.splice(KEEP);
    this.changed.fire();
    this.log.info(`Job ${record.id} started: ${title}`);

    const crashes = this.worker.crashes;
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const controller = new AbortController();
      const subscription = token.onCancellationRequested(() => controller.abort());
      let shown = 0;
      let layerMessage = '';
      /** A batch's images that have ended (its item events), before the layer that moves. */
      let imagesEnded = 0;
      const message = (): string => [spec.images !== undefined || imagesEnded ? `${imagesEnded}${spec.images !== undefined ? ` of ${spec.images}` : ''} images done` : '', layerMessage].filter(Boolean).join(' · ');
      const onProgress = (value: ProgressValue): void => {
        if (value.kind === 'event') {
          if (value.event.type !== 'item') return;
          imagesEnded++;
          progress.report({ message: message() });
          return;
        }
        if (value.kind !== 'report') return;
        record.progress = value.items;
        if (value.total === 0) return;
        const percent = (100 * value.done) / value.total;
        // A batch's per-image items (protocol 9) count in the events' message, not as bytes.
        const items = value.items.filter((i) => !BATCH_IMAGE_LABEL.test(i.label));
        const moving = items.find((i) => i.done > 0 && i.done < i.total) ?? items.find((i) => i.done < i.total);
        layerMessage = moving ? itemMessage(moving) : `${formatBytes(value.done)} of ${formatBytes(value.total)}`;
        progress.report({ increment: percent - shown, message: message() });
        shown = percent;
      };
      try {
        const result = await this.worker.request<R>(`lazyimg/${operation}`, params, { signal: controller.signal, onProgress });
        record.result = result;
        record.report = report?.(result);
        record.view = view?.(result);
        this.finish(record, 'succeeded', summarize(result));
        return { record, result };
      } catch (e) {
        const cancelled = e instanceof LazyImageError && e.code === 'CANCELLED';
        record.written = writtenBefore(e);
        this.finish(record, cancelled ? 'cancelled' : 'failed', cancelled ? 'cancelled by the user' : describeError(e));
        // A worker that died has already said so once; a cancellation is told only where a report says what it left.
        if (cancelled) {
          if (this.reporter?.describes(record)) void this.tell(record, 'info', `${title}: cancelled.`);
        } else if (this.worker.crashes === crashes) {
          void this.tell(record, 'error', `${title} failed: ${describeError(e)}`);
        }
        return { record };
      } finally {
        subscription.dispose();
      }
    });
  }

  /** Opens the job report of a job one describes; false for any other job. */
  async showReport(record: JobRecord): Promise<boolean> {
    if (!this.reporter?.describes(record)) return false;
    await this.reporter.show(record);
    return true;
  }

  /**
   * Tells how a job ended; where a job report describes it, the message offers Show Report.
   * Resolves with the other button chosen, if any.
   */
  async tell(record: JobRecord | undefined, severity: Severity, message: string, ...buttons: string[]): Promise<string | undefined> {
    const offers = record !== undefined && this.reporter?.describes(record) === true;
    const choice = await SHOW[severity](message, ...buttons, ...(offers ? [SHOW_REPORT] : []));
    if (choice !== SHOW_REPORT) return choice;
    await this.showReport(record!);
    return undefined;
  }

  private finish(record: JobRecord, status: JobStatus, detail: string): void {
    Object.assign(record, { status, detail, ended: Date.now() });
    this.log.info(`Job ${record.id} ${status} after ${((record.ended ?? 0) - record.started) / 1000} s: ${detail}`);
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** An item's progress in words: bytes, or for an optimize job's run (`workload`, in ms) seconds. */
function itemMessage(item: ProgressItem): string {
  if (item.id === WORKLOAD_ITEM) return `running the workload: ${Math.floor(item.done / 1000)} of ${Math.round(item.total / 1000)} s`;
  return `${item.label}: ${formatBytes(item.done)} of ${formatBytes(item.total)}`;
}

/** `1.6` → 6; the majors match, or the worker would not have started. */
function minor(version: string): number {
  return Number(version.split('.')[1] ?? 0);
}
