// The worker protocol: every method name, parameter, result and error shape, as plain JSON types.
// docs/worker-protocol.md is the normative description; this file is its TypeScript mirror and
// is shared by the worker, the client and the conformance suite. Direction is noted per message.
import type { ErrorCode } from '../core/errors.js';
import type { BatchEvent, BatchItemResult, BatchLayerBuilt, BatchSummary } from '../core/batch/index.js';
import type { LayerVerification, TocLayout } from '../core/estargz/index.js';
import type { ConvertResult, CopyResult, InspectResult, LayerReport, OptimizeResult, SociIndexResult, VerifyReport } from '../core/jobs/index.js';
import type { StartupProfile } from '../core/optimize/index.js';
import type { WrittenContent } from '../core/oci/index.js';
import type { SociVersion } from '../core/soci/index.js';

export const PROTOCOL_VERSION = '1.8';

export const Methods = {
  /** client -> worker, request: the first message; negotiates version and capabilities. */
  initialize: 'initialize',
  /** client -> worker, notification: the client has processed the initialize result. */
  initialized: 'initialized',
  /** client -> worker, request: cancel running jobs, wait for their cleanup, accept no new requests. */
  shutdown: 'shutdown',
  /** client -> worker, notification: exit now (code 0 after shutdown, 1 otherwise). */
  exit: 'exit',
  /** worker -> client, notification: progress of a request that carried a `workDoneToken`. */
  progress: '$/progress',
  /** client -> worker, notification: cancel a running request. */
  cancelRequest: '$/cancelRequest',
  /** client -> worker, requests: one per operation. */
  convert: 'lazyimg/convert',
  copy: 'lazyimg/copy',
  inspect: 'lazyimg/inspect',
  verify: 'lazyimg/verify',
  /** Since 1.2. */
  index: 'lazyimg/index',
  /** Since 1.6. */
  optimize: 'lazyimg/optimize',
  /** Since 1.8. */
  batch: 'lazyimg/batch',
} as const;

/** The operations a worker can offer, by the last part of their method name. */
export type Operation = 'convert' | 'copy' | 'inspect' | 'verify' | 'index' | 'optimize' | 'batch';

export interface InitializeParams {
  protocolVersion: string;
  clientInfo?: { name: string; version?: string };
  /** Jobs the worker may run at once; it queues the rest. */
  maxConcurrentJobs?: number;
}

export interface WorkerCapabilities {
  operations: Operation[];
  /** Image formats the worker reads and writes: `oci`, `docker`, `estargz`, `soci` (since 1.2). */
  formats: string[];
  maxConcurrentJobs: number;
}

export interface InitializeResult {
  protocolVersion: string;
  serverInfo: { name: string; version: string };
  capabilities: WorkerCapabilities;
}

/** Credentials for one registry; they travel only here, never in argv, environment or logs. */
export interface RegistryCredential {
  registry: string;
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`). */
  identityToken?: string;
  /** A bearer token used as is. */
  registryToken?: string;
}

/** What every operation request may carry besides its own parameters. */
export interface JobParams {
  /** Progress for this request is sent as `$/progress` with this token. */
  workDoneToken?: string | number;
  credentials?: RegistryCredential[];
  /** Registries that may be reached over plain HTTP or with unverified TLS. */
  insecureRegistries?: string[];
}

export interface CopyParams extends JobParams {
  /** `registry/repo[:tag|@digest]` or `oci:<dir>[:tag|@digest]`. */
  source: string;
  destination: string;
  allPlatforms?: boolean;
  /** `os/arch[/variant]`, for a multi-platform source when not copying all. */
  platform?: string;
  /** Since 1.3: also copy the SOCI v1 indexes that refer to the images (default true). */
  referrers?: boolean;
}

/** Since 1.1. */
export interface ConvertParams extends JobParams {
  source: string;
  /** Tagged with its tag, else the source's; a digest is refused (-33003): conversion makes a new one. */
  destination: string;
  /** Only `estargz` for now; other values are answered -33003 `UNSUPPORTED`. */
  format: string;
  /** gzip level, 1-9 (default 9). */
  level?: number;
  /** Files larger than this are split into chunks of this many bytes (default 4 MiB). */
  chunkSize?: number;
  /** Paths to put first in every layer and prefetch; the result lists those found nowhere. */
  prioritized?: string[];
  /**
   * Since 1.6: a recorded startup profile (OptimizeResult.profile, `optimize --record-out`): each
   * file first in the layer it was recorded from, every file in a layer the profile does not know.
   */
  startupProfile?: StartupProfile;
  allPlatforms?: boolean;
  platform?: string;
}

/** Since 1.2: SOCI indexes for an image, which keeps its digests. */
export interface IndexParams extends JobParams {
  source: string;
  /** v2: where the SOCI-enabled index is tagged (default `<source tag>-soci` beside it); v1: where the image is (default the source). */
  destination?: string;
  sociVersion?: SociVersion;
  spanSize?: number;
  minLayerSize?: number;
  allPlatforms?: boolean;
  platform?: string;
  /** Since 1.5: files soci-snapshotter fetches at mount where prefetch is enabled (soci's --prefetch-file). */
  prefetchFiles?: string[];
}

/**
 * Since 1.6: run the image's workload in a container (runc under strace, as root), record the files
 * it reads as it starts, and convert to eStargz with those files first in their layers.
 */
export interface OptimizeParams extends JobParams {
  source: string;
  /** Tagged with its tag, else the source's; a digest is refused (-33003). */
  destination: string;
  /** Instead of the image's entrypoint (which also drops its command). */
  entrypoint?: string[];
  /** Instead of the image's command. */
  args?: string[];
  /** `KEY=VALUE`, added to the image's environment. */
  env?: string[];
  cwd?: string;
  /** `user[:group]`, names from the image's account files or numbers. */
  user?: string;
  /** Seconds to watch the workload before stopping it (default 10). */
  periodSeconds?: number;
  /** The host's network instead of only a loopback. */
  network?: boolean;
  /** The runc binary, a path or a name on the worker's PATH (default `runc`). */
  runtime?: string;
  /** eStargz (the default) converts; soci indexes as `index` does, the recorded files to prefetch (since 1.6). */
  format?: 'estargz' | 'soci';
  /** estargz only. */
  level?: number;
  chunkSize?: number;
  /** soci only, as for `index`. */
  sociVersion?: SociVersion;
  spanSize?: number;
  minLayerSize?: number;
  platform?: string;
}

/**
 * Since 1.8: a batch plan (`lazyimg batch`'s YAML, as JSON), each distinct layer converted or
 * indexed once across its items, with a content-addressed layer cache that survives the request.
 */
export interface BatchParams extends JobParams {
  /** The plan: `version` 1, `items`, optional `defaults` and `cache` (docs/worker-protocol.md 8.7). */
  plan: Record<string, unknown>;
  /** The layer cache, instead of the plan's: a registry repository or `oci:<dir>`. */
  cache?: string;
  /** Only this shard's items: 0 ≤ index < count. */
  shard?: { index: number; count: number };
}

/** Since 1.8: the item and layer events in the order they happened, and the summary. */
export interface BatchResult {
  events: Array<BatchItemResult | BatchLayerBuilt>;
  summary: BatchSummary;
}

export type { BatchEvent, BatchItemResult, BatchLayerBuilt, BatchSummary };

export interface InspectParams extends JobParams {
  reference: string;
}

export interface VerifyParams extends JobParams {
  reference: string;
  /** Since 1.1: manifests, eStargz footers, TOCs and TOC digests only; no whole blobs, no chunk digests. */
  quick?: boolean;
  /**
   * Since 1.4: also each index against its layer's bytes (one more read of every layer): eStargz
   * TOC entries against the tar headers, zTOCs field by field against one rebuilt from the layer.
   */
  deep?: boolean;
}

/** A layer's TOC layout as the protocol carries it: counts and prefetch, not every gzip member. */
export type LayoutSummary = Omit<TocLayout, 'members'>;

/** Whether a snapshotter would pull the layer lazily, and why (not). */
export interface LayerLazyReport extends Omit<LayerReport, 'lazy'> {
  lazy: Omit<LayerVerification, 'layout'> & { layout?: LayoutSummary };
}

/**
 * `ok` is true when every manifest and blob read back matched its digest and size, and no layer
 * has a lazy-pull problem; `layers` (since 1.1) says per layer whether it is lazily pullable, and
 * `soci` (since 1.2) lists the SOCI indexes the image manifests name; `deep` (since 1.4) says the
 * deep checks ran.
 */
export type VerifyResult = Omit<VerifyReport, 'layers' | 'deep'> & { reference: string; layers: LayerLazyReport[]; deep?: boolean };

export type { ConvertResult, CopyResult, InspectResult, OptimizeResult, SociIndexResult as IndexResult };

export interface ProgressItem {
  /** Usually a blob digest. */
  id: string;
  label: string;
  done: number;
  total: number;
}

export type ProgressValue =
  | { kind: 'begin'; title: string }
  | { kind: 'report'; message?: string; done: number; total: number; items: ProgressItem[] }
  | { kind: 'end'; message?: string }
  /** Since 1.8, batch requests only: an item finished or a layer was built, as it happened; never rate-limited. */
  | { kind: 'event'; event: BatchItemResult | BatchLayerBuilt };

export interface ProgressParams {
  token: string | number;
  value: ProgressValue;
}

export const ErrorCodes = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ServerNotInitialized: -32002,
  RequestCancelled: -32800,
  /** The registry wants credentials (or better ones): `data.registry`, `data.challenge`. */
  AuthenticationRequired: -33001,
  /** The registry failed or could not be reached: `data.status` when it answered. */
  RegistryError: -33002,
  /** The request names something wrong or missing: a bad reference, an image, a blob. */
  InvalidInput: -33003,
} as const;

/** `error.data` of every application error. */
export interface ErrorData {
  /** The core's classification, e.g. `NOT_FOUND`, `DIGEST_MISMATCH`. */
  code: ErrorCode;
  ref?: string;
  temporary: boolean;
  registry?: string;
  challenge?: string;
  status?: number;
  /**
   * Since 1.7, on an operation's error: each blob and manifest the job stored in its destination
   * before it failed, which stay there (blobs the destination had already are not listed).
   */
  written?: WrittenContent[];
}

/** The most progress notifications a worker sends per request and second. */
export const MAX_PROGRESS_PER_SECOND = 10;
