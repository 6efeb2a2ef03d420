// Every registry-client default in one place.
import type { CredentialProvider } from './credentials.js';

export interface RegistryOptions {
  /** Where credentials come from; the docker config's keychain by default. */
  credentials?: CredentialProvider;
  /** Hosts (`host[:port]`) that may be reached over plain HTTP or with unverified TLS. */
  insecure?: readonly string[];
  /** Extra PEM certificate authorities to trust, on top of the system's. */
  ca?: string | Buffer;
  userAgent?: string;
  /** How many times an idempotent request is tried again after a temporary failure. */
  retries?: number;
  /** First backoff delay; it doubles each retry, with jitter, up to `maxBackoffMs`. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The longest `Retry-After` we wait for; longer ones fail with RATE_LIMITED at once. */
  maxRetryAfterMs?: number;
  connectTimeoutMs?: number;
  /** Time allowed for response headers, and between two chunks of a body. */
  responseTimeoutMs?: number;
  /** Entries asked for per page of `_catalog` and `tags/list`. */
  pageSize?: number;
  /** Blobs up to this size go up in one PUT; larger ones in PATCH chunks of `chunkSize`. */
  monolithicUploadMax?: number;
  chunkSize?: number;
  maxRedirects?: number;
  /** Loops over pages stop with an error after this many, whatever the server says. */
  maxPages?: number;
}

export type ResolvedRegistryOptions = Required<Omit<RegistryOptions, 'ca' | 'credentials'>> & Pick<RegistryOptions, 'ca' | 'credentials'>;

export const DEFAULTS: Readonly<Omit<ResolvedRegistryOptions, 'ca' | 'credentials'>> = Object.freeze({
  insecure: [],
  userAgent: 'lazy-images/0.1',
  retries: 3,
  backoffMs: 250,
  maxBackoffMs: 8_000,
  maxRetryAfterMs: 60_000,
  connectTimeoutMs: 10_000,
  responseTimeoutMs: 60_000,
  pageSize: 1000,
  monolithicUploadMax: 16 * 1024 * 1024,
  chunkSize: 16 * 1024 * 1024,
  maxRedirects: 10,
  maxPages: 100_000,
});

export function resolveOptions(options: RegistryOptions = {}): ResolvedRegistryOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...DEFAULTS, ...defined } as ResolvedRegistryOptions;
}
