// Turns a job's progress events into `$/progress` notifications: begin, reports (at most ten a
// second, with per-item and overall bytes), a batch's events as they happen, end. Totals are known
// up front from the job's plan.
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type { ProgressEvent } from '../core/jobs/index.js';
import { MAX_PROGRESS_PER_SECOND, Methods, type BatchItemResult, type BatchLayerBuilt, type ProgressItem, type ProgressParams, type ProgressValue } from './protocol.js';

const INTERVAL_MS = 1000 / MAX_PROGRESS_PER_SECOND;

export class ProgressReporter {
  private readonly items = new Map<string, ProgressItem>();
  private lastSent = 0;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(private readonly connection: MessageConnection, private readonly token: string | number | undefined, title: string) {
    this.send({ kind: 'begin', title });
  }

  /** The job's progress sink. */
  readonly sink = (event: ProgressEvent): void => {
    if (this.ended) return;
    if (event.kind === 'plan') {
      for (const p of event.items) if (!this.items.has(p.item)) this.items.set(p.item, { id: p.item, label: p.label, done: 0, total: p.total });
    } else {
      // A retried transfer starts again from 0; the report keeps the furthest point reached.
      const before = this.items.get(event.item)?.done ?? 0;
      this.items.set(event.item, { id: event.item, label: event.label, done: Math.min(Math.max(before, event.done), event.total), total: event.total });
    }
    this.schedule();
  };

  /** A batch event (1.8), sent at once: each is a fact the client counts, so none is dropped for the rate. */
  readonly event = (event: BatchItemResult | BatchLayerBuilt): void => {
    if (!this.ended) this.send({ kind: 'event', event });
  };

  /** The last report (if one is pending), then `end`. */
  end(message?: string): void {
    if (this.ended) return;
    clearTimeout(this.timer);
    if (this.timer !== undefined) this.report();
    this.timer = undefined;
    this.ended = true;
    this.send({ kind: 'end', ...(message ? { message } : {}) });
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastSent + INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.report();
    }, wait);
  }

  private report(): void {
    this.lastSent = Date.now();
    const items = [...this.items.values()];
    this.send({
      kind: 'report',
      done: items.reduce((sum, i) => sum + i.done, 0),
      total: items.reduce((sum, i) => sum + i.total, 0),
      items: items.map((i) => ({ ...i })),
    });
  }

  private send(value: ProgressValue): void {
    if (this.token === undefined) return;
    const params: ProgressParams = { token: this.token, value };
    void this.connection.sendNotification(Methods.progress, params);
  }
}
