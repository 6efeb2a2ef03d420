// One error hierarchy for the whole core. Callers branch on `code`, never on message text.

export type ErrorCode =
  | 'INVALID_REFERENCE'
  | 'INVALID_ARGUMENT'
  | 'INVALID_FORMAT'
  | 'DIGEST_MISMATCH'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'RATE_LIMITED'
  | 'UNSUPPORTED'
  | 'UNREACHABLE'
  | 'TLS'
  | 'TIMEOUT'
  | 'REGISTRY'
  | 'IO'
  | 'CANCELLED'
  | 'INTERNAL';

export interface ErrorDetails {
  /** The image, repository or registry the failed action was about. */
  ref?: string;
  /** True when the same request may succeed if tried again later. */
  temporary?: boolean;
  cause?: unknown;
}

export class LazyImageError extends Error {
  override readonly name: string = 'LazyImageError';
  readonly code: ErrorCode;
  readonly ref: string | undefined;
  readonly temporary: boolean;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.ref = details.ref;
    this.temporary = details.temporary ?? false;
  }
}

/** A diagnostic from a registry's `errors[]` body (distribution-spec error codes). */
export interface RegistryDiagnostic {
  code: string;
  message: string;
  detail?: unknown;
}

export interface RegistryErrorDetails extends ErrorDetails {
  status?: number;
  method?: string;
  /** Already redacted: never holds tokens or upload state. */
  url?: string;
  diagnostics?: RegistryDiagnostic[];
  /** The `WWW-Authenticate` challenge of a 401, for callers that ask the user to log in. */
  challenge?: string;
}

export class RegistryError extends LazyImageError {
  override readonly name: string = 'RegistryError';
  readonly status: number | undefined;
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly diagnostics: RegistryDiagnostic[];
  readonly challenge: string | undefined;

  constructor(code: ErrorCode, message: string, details: RegistryErrorDetails = {}) {
    super(code, message, details);
    this.status = details.status;
    this.method = details.method;
    this.url = details.url;
    this.diagnostics = details.diagnostics ?? [];
    this.challenge = details.challenge;
  }
}

export interface FormatErrorDetails extends ErrorDetails {
  format: string;
  digest?: string;
  offset?: number;
}

export class FormatError extends LazyImageError {
  override readonly name: string = 'FormatError';
  readonly format: string;
  readonly digest: string | undefined;
  readonly offset: number | undefined;

  constructor(code: 'INVALID_FORMAT' | 'DIGEST_MISMATCH', message: string, details: FormatErrorDetails) {
    super(code, message, details);
    this.format = details.format;
    this.digest = details.digest;
    this.offset = details.offset;
  }
}

/** Why a snapshotter daemon could not be started, stopped or reached. */
export type DaemonState =
  | 'binary-missing'
  | 'config-invalid'
  | 'socket-taken'
  | 'already-running'
  | 'died'
  | 'start-timeout'
  | 'not-running'
  | 'stop-failed'
  | 'needs-root';

export interface SnapshotterErrorDetails extends ErrorDetails {
  state: DaemonState;
  /** What the user can do about it, e.g. the exact command to run. */
  action: string;
  /** The last lines of the daemon's log, when it died. */
  logTail?: string;
  /** The config line at fault. */
  line?: number;
}

export class SnapshotterError extends LazyImageError {
  override readonly name: string = 'SnapshotterError';
  readonly state: DaemonState;
  readonly action: string;
  readonly logTail: string | undefined;
  readonly line: number | undefined;

  constructor(code: ErrorCode, message: string, details: SnapshotterErrorDetails) {
    super(code, message, details);
    this.state = details.state;
    this.action = details.action;
    this.logTail = details.logTail;
    this.line = details.line;
  }
}

/** Error codes of the distribution spec that mean "it does not exist". */
const NOT_FOUND_CODES = new Set(['BLOB_UNKNOWN', 'MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'NOT_FOUND']);

/** Maps an HTTP status and the registry's own error codes onto our codes. Pure, table-tested. */
export function classifyStatus(status: number, diagnostics: readonly RegistryDiagnostic[] = []): { code: ErrorCode; temporary: boolean } {
  const codes = diagnostics.map((d) => d.code.toUpperCase());
  if (status === 429 || codes.includes('TOOMANYREQUESTS')) return { code: 'RATE_LIMITED', temporary: true };
  if (status === 401 || codes.includes('UNAUTHORIZED')) return { code: 'UNAUTHORIZED', temporary: false };
  if (status === 403 || codes.includes('DENIED')) return { code: 'DENIED', temporary: false };
  if (status === 404 || codes.some((c) => NOT_FOUND_CODES.has(c))) return { code: 'NOT_FOUND', temporary: false };
  if (status === 405 || codes.includes('UNSUPPORTED')) return { code: 'UNSUPPORTED', temporary: false };
  if (status === 408 || status === 502 || status === 503 || status === 504) return { code: 'REGISTRY', temporary: true };
  if (status >= 500) return { code: 'REGISTRY', temporary: status !== 501 && status !== 505 };
  if (codes.includes('DIGEST_INVALID')) return { code: 'DIGEST_MISMATCH', temporary: false };
  if (codes.some((c) => c.endsWith('_INVALID') || c === 'SIZE_INVALID')) return { code: 'INVALID_FORMAT', temporary: false };
  return { code: 'REGISTRY', temporary: false };
}

export function cancelled(ref?: string): LazyImageError {
  return new LazyImageError('CANCELLED', 'Cancelled', { ref });
}

/** Throws a CANCELLED error if the signal is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, ref?: string): void {
  if (signal?.aborted) throw cancelled(ref);
}

/**
 * One line for a person: the message plus what its causes add. Our own errors already say what a
 * foreign cause (a Node or undici error) meant, so under them only our own causes are added.
 */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  let text = e.message;
  const ours = e instanceof LazyImageError;
  const seen = new Set<unknown>([e]);
  let cause = e.cause;
  while (cause instanceof Error && !seen.has(cause) && (!ours || cause instanceof LazyImageError)) {
    seen.add(cause);
    const adds = withoutSharedAction(text, cause.message);
    if (!text.includes(adds)) text += `: ${adds}`;
    cause = cause.cause;
  }
  return text;
}

/** A cause that restates the action ("Cannot X: detail" under "Cannot X: why") adds only its detail. */
function withoutSharedAction(text: string, message: string): string {
  const colon = message.indexOf(': ');
  return colon > 0 && text.startsWith(message.slice(0, colon + 2)) ? message.slice(colon + 2) : message;
}
