// What the image report's webview draws, made by the host (reports/imageReport.ts) from the core's
// answers: inspect (the laziness of each layer), the worker's verify, and the lazy reads recorded
// in this window. Plain data, no imports: the webview bundle type-checks against it.

/** How a snapshotter pulls a layer: lazily by one format or both, whole, or it claims a format that failed verification. */
export type LazyState = 'estargz' | 'soci' | 'both' | 'none' | 'broken';

/** The report's buttons; the host maps each to its command, run on the report's own image. */
export type ReportAction = 'convert' | 'index' | 'verify' | 'verifyDeep' | 'refresh';
export const REPORT_ACTIONS: readonly ReportAction[] = ['convert', 'index', 'verify', 'verifyDeep', 'refresh'];

/** A TOC's or zTOC's verification: files, and chunks or spans, with how many matched their digests. */
export interface IndexCheck {
  files: number;
  /** Chunks (eStargz) or spans (SOCI). */
  pieces: number;
  piecesVerified: number;
  /** Passed every check verify ran. */
  ok: boolean;
  /** What else verify learnt: the prefetch, the deep check. */
  details: string[];
}

export interface LayerRow {
  /** 1-based, from the base. */
  index: number;
  digest: string;
  size: number;
  /** From the eStargz uncompressed-size annotation; unknown otherwise. */
  uncompressedSize?: number;
  mediaType: string;
  state: LazyState;
  /** `eStargz`, `legacy stargz`, `SOCI v2`: what makes it lazy (or claims to). */
  formats: string[];
  annotations: Array<[string, string]>;
  /** Set once verify has checked the layer's TOC / zTOC. */
  toc?: IndexCheck;
  ztoc?: IndexCheck;
  /** Compressed bytes fetched by lazy file reads in this window, and how many reads. */
  fetched?: { bytes: number; reads: number };
}

export interface Finding {
  level: 'problem' | 'note';
  text: string;
  actions: ReportAction[];
}

export interface PlatformSection {
  /** `linux/amd64`, or `image` for a manifest no index lists. */
  name: string;
  digest: string;
  layers: LayerRow[];
  sociIndexes: Array<{ digest: string; version: string; ztocs: number }>;
  /** In a few words: lazy, partly, not lazy, not ready. */
  verdict: string;
  findings: Finding[];
}

export interface Verification {
  ok: boolean;
  deep: boolean;
  blobs: number;
  bytes: number;
  /** The image verify checked is not the one the reference names now. */
  stale: boolean;
}

export interface ImageReportView {
  digest: string;
  platforms: PlatformSection[];
  /** Unset until Verify Lazy Pull Readiness (or Verify Deeply) has run on the image. */
  verification?: Verification;
  /** Findings about the whole image (blobs that failed their digest). */
  findings: Finding[];
}

/**
 * The report's data, kept by the webview with setState. `ref` and `verify` are the host's (the
 * reference and the worker's verify answer, for a refresh after a reload); the page draws `view`.
 */
export interface ImageReportData {
  /** The reference as text, for the heading. */
  reference: string;
  ref: unknown;
  verify?: unknown;
  /** Unset while loading. */
  view?: ImageReportView;
  error?: string;
}
