// Progress of a job: one item per blob, bytes done of total, reported as the bytes move.

export interface ProgressEvent {
  /** What the bytes belong to, usually a blob digest. */
  item: string;
  /** A short human label: `layer 2/5`, `config`. */
  label: string;
  done: number;
  total: number;
  /** Set once the item is finished; `existed` and `mounted` items move no bytes. */
  outcome?: 'existed' | 'mounted' | 'uploaded';
}

export type ProgressSink = (event: ProgressEvent) => void;
