// One registry host: picks the scheme, authenticates each request for the scopes it needs, and
// answers a 401 once by renewing credentials. Operations live in their own modules.
import type { Readable } from 'node:stream';
import { LazyImageError, RegistryError } from '../errors.js';
import { normalizeRegistry, registryEndpoint } from '../oci/index.js';
import { Authenticator } from './auth.js';
import { dockerKeychain } from './credentials.js';
import { hostnameOf, isLoopbackHost } from './hosts.js';
import { resolveOptions, type RegistryOptions, type ResolvedRegistryOptions } from './options.js';
import { redactUrl } from './redact.js';
import { responseError } from './responseError.js';
import { Transport, header, type HttpMethod, type HttpResponse } from './transport.js';

export interface RegistryRequest {
  method: HttpMethod;
  /** A path under the registry (`/v2/...`) or an absolute URL the registry gave us. */
  path: string | URL;
  /** Token scopes, e.g. `repository:org/app:pull`. */
  scopes: readonly string[];
  headers?: Record<string, string>;
  body?: Buffer | Readable;
  /** Defaults to true for GET, HEAD and PUT. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export function repositoryScope(repository: string, actions: 'pull' | 'pull,push'): string {
  return `repository:${repository}:${actions}`;
}

export class RegistryClient {
  readonly registry: string;
  readonly options: ResolvedRegistryOptions;
  private readonly endpoint: string;
  private readonly transport: Transport;
  private readonly auth: Authenticator;
  private base: Promise<URL> | undefined;

  constructor(registry: string, options: RegistryOptions = {}) {
    this.registry = normalizeRegistry(registry);
    this.options = resolveOptions(options);
    this.endpoint = registryEndpoint(this.registry);
    this.transport = new Transport(this.options);
    this.auth = new Authenticator({
      registry: this.registry,
      transport: this.transport,
      credentials: this.options.credentials ?? dockerKeychain(),
      insecure: this.options.insecure,
    });
  }

  private get insecure(): boolean {
    return this.options.insecure.includes(this.endpoint) || this.options.insecure.includes(this.registry);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /** Sends an authenticated request and returns the response, whatever its status. */
  async request(req: RegistryRequest): Promise<HttpResponse> {
    const base = await this.baseUrl(req.signal);
    const url = typeof req.path === 'string' ? new URL(req.path, base) : req.path;
    const idempotent = req.idempotent ?? (req.method === 'GET' || req.method === 'HEAD' || req.method === 'PUT');
    const send = (authorization: string | undefined): Promise<HttpResponse> =>
      this.transport.send({
        method: req.method,
        url,
        headers: { ...req.headers, ...(authorization ? { authorization } : {}) },
        ...(req.body !== undefined ? { body: req.body } : {}),
        idempotent,
        insecureTls: this.insecure,
        ...(req.signal ? { signal: req.signal } : {}),
      });

    const authorization = await this.auth.authorization(req.scopes, req.signal);
    const res = await send(authorization);
    if (res.status !== 401) return res;
    await res.body.dump();
    const challenge = header(res, 'www-authenticate');
    let renewed: string;
    try {
      renewed = await this.auth.respond(challenge, req.scopes, req.signal);
    } catch (e) {
      if (!(e instanceof LazyImageError) || e instanceof RegistryError || e.code !== 'UNAUTHORIZED') throw e;
      // Keep what the registry said, so callers can show the challenge or ask for credentials.
      throw new RegistryError('UNAUTHORIZED', e.message, { ref: e.ref ?? this.registry, status: 401, method: req.method, url: redactUrl(url), cause: e.cause, ...(challenge ? { challenge } : {}) });
    }
    const replayable = req.body === undefined || Buffer.isBuffer(req.body);
    if (!replayable) {
      throw new RegistryError('UNAUTHORIZED', `${req.method} ${url.pathname} on ${this.registry}: authentication expired while sending a stream`, { ref: this.registry, status: 401, method: req.method, temporary: true });
    }
    const retried = await send(renewed);
    // A 401 after authenticating means what we sent was refused: let the error say what that was.
    if (retried.status === 401) retried.refused = (await this.auth.hasCredential()) ? 'credentials' : 'anonymous';
    return retried;
  }

  /** `GET /v2/`: is it a registry, and can we reach it with the credentials we have? */
  async ping(signal?: AbortSignal): Promise<void> {
    const res = await this.request({ method: 'GET', path: '/v2/', scopes: [], ...(signal ? { signal } : {}) });
    if (res.status === 200) {
      await res.body.dump();
      return;
    }
    throw await responseError(res, 'GET', `Cannot reach registry ${this.registry}`, this.registry);
  }

  /** The base URL: https, or http for loopback and insecure hosts whose port does not speak TLS. */
  private baseUrl(signal?: AbortSignal): Promise<URL> {
    this.base ??= this.chooseScheme(signal).catch((e: unknown) => {
      this.base = undefined;
      throw e;
    });
    return this.base;
  }

  private async chooseScheme(signal?: AbortSignal): Promise<URL> {
    const https = new URL(`https://${this.endpoint}/`);
    const mayUseHttp = this.insecure || isLoopbackHost(hostnameOf(this.endpoint));
    try {
      this.checkRegistry(await this.probe(https, signal), https);
      return https;
    } catch (e) {
      if (!mayUseHttp || !(e instanceof LazyImageError) || e.code === 'CANCELLED') throw e;
      // A loopback port that fails a certificate check does speak TLS: report that, do not downgrade.
      if (!this.insecure && (e.code !== 'TLS' || /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME|HOSTNAME/.test(e.message))) throw e;
      const http = new URL(`http://${this.endpoint}/`);
      let status: number;
      try {
        status = await this.probe(http, signal);
      } catch (e2) {
        throw new LazyImageError((e2 as LazyImageError).code ?? 'UNREACHABLE', `${(e2 as Error).message} (HTTPS failed too: ${(e as Error).message})`, { ref: this.registry, cause: e2 });
      }
      this.checkRegistry(status, http);
      return http;
    }
  }

  /** Any HTTP answer from `/v2/` proves the scheme works; its status says whether it is a registry. */
  private async probe(base: URL, signal?: AbortSignal): Promise<number> {
    const res = await this.transport.send({
      method: 'GET',
      url: new URL('/v2/', base),
      idempotent: true,
      insecureTls: this.insecure,
      ...(signal ? { signal } : {}),
    });
    await res.body.dump();
    return res.status;
  }

  /** A registry answers `/v2/` (200, or 401/403 until it knows who asks); a web server that is none answers 404. */
  private checkRegistry(status: number, base: URL): void {
    if (status !== 404) return;
    throw new LazyImageError('UNREACHABLE', `${this.registry} does not speak the registry API: GET ${new URL('/v2/', base).href} answered 404`, { ref: this.registry });
  }
}
