// HTTP for the registry client, on undici: timeouts, retries with backoff for what may be sent
// again, `Retry-After`, redirects that never carry `Authorization` to another host, and network
// failures turned into clear, classified errors.
import { setTimeout as sleep } from 'node:timers/promises';
import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
import { LazyImageError, RegistryError, type ErrorCode } from '../errors.js';
import type { ResolvedRegistryOptions } from './options.js';
import { redactUrl } from './redact.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: HttpMethod;
  url: URL;
  headers?: Record<string, string>;
  /** A Buffer can be sent again on retry; a stream cannot, so a request with one is tried once. */
  body?: Buffer | Readable;
  /** Safe to repeat (GET, HEAD, PUT of a manifest): retried on temporary failures. */
  idempotent: boolean;
  /** Skip TLS certificate checks: only for hosts the user listed as insecure. */
  insecureTls?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  /** Where the response finally came from, after redirects. */
  url: URL;
  /** Set by the registry client on a 401 to a request it had authenticated: what was refused. */
  refused?: 'anonymous' | 'credentials';
}

/**
 * undici, loaded on the first request rather than at start-up: it is most of the bundle, and the
 * editor should not pay for it before the user opens a registry.
 */
function undici(): typeof import('undici') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('undici') as typeof import('undici');
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export class Transport {
  private agents: { verified: Agent; insecure: Agent } | undefined;

  constructor(private readonly options: ResolvedRegistryOptions) {}

  private dispatcher(insecureTls: boolean | undefined): Agent {
    if (!this.agents) {
      const { Agent } = undici();
      const ca = this.options.ca ? [...rootCertificates, this.options.ca.toString()] : undefined;
      const connect = { timeout: this.options.connectTimeoutMs, ...(ca ? { ca } : {}) };
      const timeouts = { headersTimeout: this.options.responseTimeoutMs, bodyTimeout: this.options.responseTimeoutMs };
      this.agents = {
        verified: new Agent({ connect, ...timeouts }),
        insecure: new Agent({ connect: { ...connect, rejectUnauthorized: false }, ...timeouts }),
      };
    }
    return insecureTls ? this.agents.insecure : this.agents.verified;
  }

  async close(): Promise<void> {
    const agents = this.agents;
    this.agents = undefined;
    if (agents) await Promise.all([agents.verified.close(), agents.insecure.close()]);
  }

  /** Sends a request, retrying temporary failures of idempotent ones, and follows redirects. */
  async send(req: HttpRequest): Promise<HttpResponse> {
    const replayable = req.idempotent && !(req.body !== undefined && !Buffer.isBuffer(req.body));
    for (let attempt = 0; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.follow(req);
      } catch (e) {
        const error = toNetworkError(e, req);
        if (!replayable || !error.temporary || attempt >= this.options.retries) throw error;
        await this.pause(this.backoff(attempt), req.signal);
        continue;
      }
      if (!replayable || !RETRY_STATUSES.has(response.status) || attempt >= this.options.retries) return response;
      const wait = retryAfterMs(header(response, 'retry-after')) ?? this.backoff(attempt);
      if (wait > this.options.maxRetryAfterMs) return response; // the caller reports the 429/503
      await response.body.dump();
      await this.pause(wait, req.signal);
    }
  }

  private async follow(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let method = req.method;
    let headers = { 'user-agent': this.options.userAgent, ...req.headers };
    let insecureTls = req.insecureTls;
    for (let hop = 0; ; hop++) {
      const res = await undici().request(url, {
        method,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : req.body,
        dispatcher: this.dispatcher(insecureTls),
        signal: req.signal,
      }).catch((e: unknown) => {
        // After a redirect, the error is about the host redirected to: name that one.
        throw hop === 0 ? e : toNetworkError(e, { method, url, signal: req.signal });
      });
      const location = header({ headers: res.headers }, 'location');
      if (!REDIRECTS.has(res.statusCode) || !location) return { status: res.statusCode, headers: res.headers, body: res.body, url };
      await res.body.dump();
      if (hop >= this.options.maxRedirects) {
        throw new RegistryError('REGISTRY', `${req.method} ${redactUrl(req.url)}: more than ${this.options.maxRedirects} redirects`, { method: req.method, url: redactUrl(req.url) });
      }
      if (req.body !== undefined && !Buffer.isBuffer(req.body) && res.statusCode !== 303) {
        throw new RegistryError('REGISTRY', `${req.method} ${redactUrl(req.url)}: redirected while sending a stream`, { method: req.method, url: redactUrl(req.url) });
      }
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') {
        throw new RegistryError('REGISTRY', `${req.method} ${redactUrl(req.url)}: redirect to unsupported URL scheme ${next.protocol}`, { method: req.method });
      }
      if (url.protocol === 'https:' && next.protocol === 'http:' && !this.options.insecure.includes(next.host)) {
        throw new RegistryError('REGISTRY', `${req.method} ${redactUrl(req.url)}: refused a redirect from HTTPS to plain HTTP (${redactUrl(next)})`, { method: req.method });
      }
      if (next.origin !== url.origin) {
        // Credentials are for the registry only, never for a CDN or storage host it redirects to.
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization')) as typeof headers;
      }
      // A host the user marked insecure vouches for nobody else: another host's TLS is checked.
      insecureTls = next.host === req.url.host ? req.insecureTls : this.options.insecure.includes(next.host);
      if (res.statusCode === 303) method = 'GET';
      url = next;
    }
  }

  private backoff(attempt: number): number {
    const base = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** attempt);
    return base / 2 + Math.random() * (base / 2);
  }

  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(ms, undefined, signal ? { signal } : {});
    } catch {
      throw new LazyImageError('CANCELLED', 'Cancelled');
    }
  }
}

/** First value of a response header, lowercase name. */
export function header(res: Pick<HttpResponse, 'headers'>, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `Retry-After`: seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  // Only an IMF-fixdate-like value is a date; Date.parse would read "1.5" as a day in 2001.
  if (!/^[A-Za-z]{3},? /.test(value.trim())) return undefined;
  const when = Date.parse(value);
  return Number.isNaN(when) ? undefined : Math.max(0, when - now);
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|HOSTNAME/;

/** Turns what undici and Node throw into one classified error that names the request. */
export function toNetworkError(e: unknown, req: Pick<HttpRequest, 'method' | 'url' | 'signal'>): LazyImageError {
  if (e instanceof LazyImageError) return e;
  const err = e as NodeJS.ErrnoException;
  const code = err.code ?? (err.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
  const target = `${req.url.protocol}//${req.url.host}`;
  const make = (c: ErrorCode, what: string, temporary: boolean): LazyImageError =>
    new RegistryError(c, `Cannot reach ${target}: ${what}`, { method: req.method, url: redactUrl(req.url), temporary, cause: e });
  if (req.signal?.aborted || err.name === 'AbortError' || code === 'ABORT_ERR' || code === 'UND_ERR_ABORTED') return new LazyImageError('CANCELLED', 'Cancelled', { cause: e });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return make('UNREACHABLE', `cannot resolve host ${req.url.hostname}`, code === 'EAI_AGAIN');
  if (code === 'ECONNREFUSED') return make('UNREACHABLE', 'connection refused', false);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return make('UNREACHABLE', 'no route to host', false);
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return make('TIMEOUT', 'connection timed out', true);
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return make('TIMEOUT', 'no response in time', true);
  if (code === 'UND_ERR_BODY_TIMEOUT') return make('TIMEOUT', 'the response stalled', true);
  if (TLS_CODES.test(code)) return make('TLS', `TLS failure (${code}: ${err.message})`, false);
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return make('UNREACHABLE', `connection lost (${code})`, true);
  return make('UNREACHABLE', err.message || String(e), false);
}
