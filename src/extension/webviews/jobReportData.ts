// What the job report's webview draws, made by the host (reports/jobReport.ts) from a job's record:
// its result, or for a job that did not end well its last progress and what the worker said it
// left. Plain data, no imports: the webview bundle type-checks against it.

export type JobReportStatus = 'succeeded' | 'failed' | 'cancelled';

/** One source layer, before and after. */
export interface JobLayerRow {
  /** 1-based, in the order the job listed them. */
  index: number;
  /** A job that did not end well: what its progress called the item (`layer 2/3`, `config`). */
  label?: string;
  digest: string;
  size: number;
  /** eStargz: the layer written for it; SOCI: its zTOC. */
  made?: { digest: string; size: number };
  /** eStargz: the TOC digest (also the layer's annotation). */
  tocDigest?: string;
  /** SOCI: the zTOC's spans and files. */
  spans?: number;
  files?: number;
  /** SOCI: why the layer got no zTOC. */
  skipped?: string;
  /** Wall time of the layer; a worker before protocol 1.7 does not say. */
  seconds?: number;
  /** A job that did not end well: the source bytes it had read, from its last progress report. */
  read?: number;
}

/** The layers of one platform (SOCI: with its index), or of the whole job. */
export interface JobSection {
  /** `linux/amd64`, when the job made one index per platform. */
  platform?: string;
  /** SOCI: the index manifest, and the prefetch artifacts it lists. */
  index?: string;
  prefetch?: { artifacts: Array<{ layer: string; digest: string; size: number; spans: number }>; files: number; missing: string[] };
  layers: JobLayerRow[];
}

/** A reference the job made; images can be copied elsewhere (Copy To...). */
export interface NewReference {
  what: string;
  reference: string;
  image: boolean;
}

/** One blob or manifest a job that did not end well left in its destination. */
export interface LeftItem {
  what: string;
  digest: string;
  size: number;
  tag?: string;
}

/** What a job that failed or was cancelled left, and what was cleaned up. */
export interface Leftovers {
  /** Where it wrote. */
  store: string;
  /** Undefined when the worker did not say (before protocol 1.7). */
  kept?: LeftItem[];
  /** What was cleaned up, and whether anything refers to what was kept, in sentences. */
  cleaned: string[];
}

export interface JobReportData {
  /** The job: its number and start, unique within a window. */
  key: string;
  title: string;
  /** `eStargz` or `SOCI v2`: what the job made. */
  format: string;
  status: JobReportStatus;
  /** The job's wall time. */
  seconds: number;
  /** The outcome in words: the summary, or why it failed. */
  detail: string;
  source: string;
  destination?: string;
  /** What the `made` column holds: `eStargz layer` or `zTOC`. */
  made: string;
  sections: JobSection[];
  references: NewReference[];
  left?: Leftovers;
  /** An optimize job: what its run recorded; its report opens with Open Startup Profile while the job is listed. */
  startup?: { files: number; how: string; report: boolean };
}

/** The report's buttons: Copy To... runs Copy Image To on one of its references; the startup profile's report. */
export type JobReportAction = 'copyTo' | 'startupReport';
