// The worker protocol: every method name, parameter, result and error shape, as plain JSON types.
// docs/worker-protocol.md is the normative description; this file is its TypeScript mirror and
// is shared by the worker, the client and the conformance suite. Direction is noted per message.
import type { ErrorCode } from '../core/errors.js';
import type { CopyResult, InspectResult, VerifyReport } from '../core/jobs/index.js';

export const PROTOCOL_VERSION = '1.0';

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
  copy: 'lazyimg/copy',
  inspect: 'lazyimg/inspect',
  verify: 'lazyimg/verify',
} as const;

/** The operations a worker can offer, by the last part of their method name. */
export type Operation = 'copy' | 'inspect' | 'verify';

export interface InitializeParams {
  protocolVersion: string;
  clientInfo?: { name: string; version?: string };
  /** Jobs the worker may run at once; it queues the rest. */
  maxConcurrentJobs?: number;
}

export interface WorkerCapabilities {
  operations: Operation[];
  /** Image formats the worker reads and writes: `oci`, `docker`; later `estargz`, `soci`. */
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
}

export interface InspectParams extends JobParams {
  reference: string;
}

export interface VerifyParams extends JobParams {
  reference: string;
}

/** `ok` is true when every manifest and blob was read back and matched its digest and size. */
export type VerifyResult = VerifyReport & { reference: string };

export type { CopyResult, InspectResult };

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
  | { kind: 'end'; message?: string };

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
}

/** The most progress notifications a worker sends per request and second. */
export const MAX_PROGRESS_PER_SECOND = 10;
