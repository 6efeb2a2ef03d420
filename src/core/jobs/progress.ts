// Progress of a job, as the bytes move: items (usually blobs) are announced with their sizes
// before any transfer starts, then reported as they advance.

export interface ProgressItemPlan {
  /** What the bytes belong to, usually a blob digest. */
  item: string;
  /** A short human label: `layer 2/5`, `config`. */
  label: string;
  total: number;
}

export type ProgressEvent =
  /** Items about to be worked on, so totals are known up front. */
  | { kind: 'plan'; items: ProgressItemPlan[] }
  /** An item advanced; `outcome` is set once it is finished (`existed` and `mounted` move no bytes). */
  | (ProgressItemPlan & { kind: 'item'; done: number; outcome?: 'existed' | 'mounted' | 'uploaded' | 'verified' | 'failed' });

export type ProgressSink = (event: ProgressEvent) => void;

/** Seconds since `started` (a `performance.now()`), to the millisecond: a layer's time in a result. */
export function secondsSince(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}
