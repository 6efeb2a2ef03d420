// Registry authentication: Basic, and the Docker token flow (Bearer realm/service/scope, anonymous
// tokens, OAuth2 refresh tokens), with tokens cached per scope until shortly before they expire.
import { LazyImageError } from '../errors.js';
import { readJson } from './body.js';
import { parseChallenges, type Challenge } from './challenge.js';
import type { Credential, CredentialProvider } from './credentials.js';
import { isLoopbackHost } from './hosts.js';
import { responseError } from './responseError.js';
import type { Transport } from './transport.js';

const MAX_TOKEN_RESPONSE = 1024 * 1024;
/** The token spec's default lifetime, and its minimum. */
const MIN_TOKEN_SECONDS = 60;
/** Renew this long before expiry, so a token does not run out mid-request. */
const EXPIRY_SLACK_MS = 10_000;
const CLIENT_ID = 'lazy-images';

interface CachedToken {
  header: string;
  expiresAt: number;
}

export interface AuthContext {
  /** Registry name, for credentials and messages. */
  registry: string;
  transport: Transport;
  credentials: CredentialProvider | undefined;
  insecure: readonly string[];
}

export class Authenticator {
  /** What the registry asked for in its last 401; lets later requests authenticate up front. */
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, Promise<CachedToken>>();
  private credential: Promise<Credential | undefined> | undefined;

  constructor(private readonly ctx: AuthContext) {}

  /** The Authorization header for a request needing `scopes`, if the registry's scheme is known. */
  async authorization(scopes: readonly string[], signal?: AbortSignal): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return this.basicHeader(challenge);
    return this.bearerHeader(challenge, scopes, false, signal);
  }

  /**
   * Answers a 401: learns the scheme from `WWW-Authenticate` and returns a fresh header to retry
   * with. Throws UNAUTHORIZED when there is no way to satisfy the registry.
   */
  async respond(wwwAuthenticate: string | undefined, scopes: readonly string[], signal?: AbortSignal): Promise<string> {
    const challenges = parseChallenges(wwwAuthenticate ?? '');
    const challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!challenge) {
      throw new LazyImageError('UNAUTHORIZED', `Cannot authenticate to ${this.ctx.registry}: it answered 401 without a Basic or Bearer challenge`, { ref: this.ctx.registry });
    }
    this.challenge = challenge;
    if (challenge.scheme === 'basic') return this.basicHeader(challenge);
    const extra = (challenge.params.scope ?? '').split(' ').filter(Boolean);
    return this.bearerHeader(challenge, [...new Set([...scopes, ...extra])], true, signal);
  }

  /** Whether requests carry the user's credentials rather than anonymous tokens. */
  async hasCredential(): Promise<boolean> {
    return (await this.getCredential()) !== undefined;
  }

  private getCredential(): Promise<Credential | undefined> {
    this.credential ??= this.ctx.credentials ? this.ctx.credentials(this.ctx.registry) : Promise.resolve(undefined);
    return this.credential;
  }

  private async basicHeader(challenge: Challenge): Promise<string> {
    const credential = await this.getCredential();
    if (credential?.kind !== 'basic') {
      const realm = challenge.params.realm ? ` (realm "${challenge.params.realm}")` : '';
      throw new LazyImageError('UNAUTHORIZED', `Cannot authenticate to ${this.ctx.registry}: it requires a username and password${realm}; log in first`, { ref: this.ctx.registry });
    }
    return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}`;
  }

  private async bearerHeader(challenge: Challenge, scopes: readonly string[], renew: boolean, signal?: AbortSignal): Promise<string> {
    const key = [challenge.params.realm, challenge.params.service, ...[...scopes].sort()].join('|');
    if (!renew) {
      // Concurrent requests for one scope share one token request.
      const cached = await this.tokens.get(key)?.catch(() => undefined);
      if (cached && cached.expiresAt > Date.now()) return cached.header;
    }
    const pending = this.fetchToken(challenge, scopes, signal);
    this.tokens.set(key, pending);
    pending.catch(() => {
      if (this.tokens.get(key) === pending) this.tokens.delete(key);
    });
    return (await pending).header;
  }

  private async fetchToken(challenge: Challenge, scopes: readonly string[], signal?: AbortSignal): Promise<CachedToken> {
    const credential = await this.getCredential();
    if (credential?.kind === 'registry-token') return { header: `Bearer ${credential.token}`, expiresAt: Number.MAX_SAFE_INTEGER };
    const realm = this.realmUrl(challenge, credential);
    const service = challenge.params.service;
    const ref = this.ctx.registry;
    const action = `Cannot get a token for ${ref} from ${realm.origin}`;

    let res;
    if (credential?.kind === 'identity-token') {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.token, client_id: CLIENT_ID });
      if (service) form.set('service', service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      res = await this.ctx.transport.send({
        method: 'POST', url: realm, idempotent: true, signal,
        headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()),
      });
    } else {
      const url = new URL(realm);
      if (service) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = credential?.kind === 'basic'
        ? { authorization: `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}` }
        : {};
      res = await this.ctx.transport.send({ method: 'GET', url, headers, idempotent: true, signal });
    }
    if (res.status === 401 || res.status === 403) {
      const base = await responseError(res, 'GET', action, ref);
      const why = credential ? 'the credentials were rejected (wrong username or password?)' : 'anonymous access is not allowed; log in first';
      throw new LazyImageError('UNAUTHORIZED', `${action}: ${why}`, { ref, cause: base });
    }
    if (res.status !== 200) throw await responseError(res, 'GET', action, ref);
    const doc = (await readJson(res, MAX_TOKEN_RESPONSE, action)) as { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    const token = typeof doc.token === 'string' && doc.token ? doc.token : doc.access_token;
    if (typeof token !== 'string' || !token) throw new LazyImageError('UNAUTHORIZED', `${action}: the token server's reply has no token`, { ref });
    const seconds = typeof doc.expires_in === 'number' && doc.expires_in > MIN_TOKEN_SECONDS ? doc.expires_in : MIN_TOKEN_SECONDS;
    const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : Number.NaN;
    const start = Number.isNaN(issued) || issued > Date.now() ? Date.now() : issued;
    return { header: `Bearer ${token}`, expiresAt: start + seconds * 1000 - EXPIRY_SLACK_MS };
  }

  /** The token realm; plain HTTP is refused unless it is loopback or listed as insecure. */
  private realmUrl(challenge: Challenge, credential: Credential | undefined): URL {
    const realm = challenge.params.realm;
    let url: URL;
    try {
      url = new URL(realm ?? '');
    } catch {
      throw new LazyImageError('UNAUTHORIZED', `Cannot authenticate to ${this.ctx.registry}: its Bearer challenge has no valid realm ("${realm ?? ''}")`, { ref: this.ctx.registry });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new LazyImageError('UNAUTHORIZED', `Cannot authenticate to ${this.ctx.registry}: token realm ${url.origin} is not HTTP(S)`, { ref: this.ctx.registry });
    }
    if (url.protocol === 'http:' && credential && !isLoopbackHost(url.hostname) && !this.ctx.insecure.includes(url.host)) {
      throw new LazyImageError('UNAUTHORIZED', `Cannot authenticate to ${this.ctx.registry}: refusing to send credentials to plain-HTTP token realm ${url.origin}`, { ref: this.ctx.registry });
    }
    return url;
  }
}
