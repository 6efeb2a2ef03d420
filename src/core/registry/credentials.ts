// Credentials: from the caller, or from the user's docker `config.json` (auths, credsStore,
// credHelpers) the way the docker CLI reads them.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LazyImageError } from '../errors.js';
import { DOCKER_HUB } from '../oci/index.js';

export type Credential =
  | { kind: 'basic'; username: string; password: string }
  /** An OAuth2 refresh token (docker's `identitytoken`, or a helper's `<token>` user). */
  | { kind: 'identity-token'; token: string }
  /** A bearer token sent as is (docker's `registrytoken`). */
  | { kind: 'registry-token'; token: string };

/** Looks up the credential for a registry name (`docker.io`, `ghcr.io`, `127.0.0.1:5000`). */
export type CredentialProvider = (registry: string) => Promise<Credential | undefined>;

/** Docker Hub's key in config.json and for credential helpers, kept from the v1 API days. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const HELPER_TIMEOUT_MS = 15_000;
const MAX_HELPER_OUTPUT = 64 * 1024;

export interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export interface DockerKeychainOptions {
  /** Folder holding config.json; `$DOCKER_CONFIG` or `~/.docker` by default. */
  configDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Credentials from docker's config.json; a missing file means anonymous access. */
export function dockerKeychain(options: DockerKeychainOptions = {}): CredentialProvider {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? env.DOCKER_CONFIG ?? join(homedir(), '.docker');
  const path = join(dir, 'config.json');
  let config: Promise<DockerConfig> | undefined;
  const cache = new Map<string, Promise<Credential | undefined>>();
  return (registry) => {
    config ??= loadDockerConfig(path);
    let found = cache.get(registry);
    if (!found) {
      found = config.then((c) => credentialFromConfig(c, registry, path, env));
      cache.set(registry, found);
    }
    return found;
  };
}

async function loadDockerConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new LazyImageError('IO', `Cannot read docker config ${path}: ${(e as Error).message}`);
  }
  return parseDockerConfig(text, path);
}

export function parseDockerConfig(text: string, path: string): DockerConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new LazyImageError('INVALID_FORMAT', `Invalid docker config ${path}: not JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new LazyImageError('INVALID_FORMAT', `Invalid docker config ${path}: not an object`);
  const c = doc as Record<string, unknown>;
  const bad = (field: string): never => {
    throw new LazyImageError('INVALID_FORMAT', `Invalid docker config ${path}: ${field} has the wrong type`);
  };
  if (c.auths !== undefined && (typeof c.auths !== 'object' || c.auths === null)) bad('auths');
  if (c.credsStore !== undefined && typeof c.credsStore !== 'string') bad('credsStore');
  if (c.credHelpers !== undefined && (typeof c.credHelpers !== 'object' || c.credHelpers === null)) bad('credHelpers');
  return c as DockerConfig;
}

/** `https://index.docker.io/v1/` -> `docker.io`; `https://host:5000/v2/` -> `host:5000`. */
export function configKeyToRegistry(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]?.toLowerCase() ?? '';
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

async function credentialFromConfig(config: DockerConfig, registry: string, path: string, env: NodeJS.ProcessEnv): Promise<Credential | undefined> {
  const helperKey = Object.keys(config.credHelpers ?? {}).find((k) => configKeyToRegistry(k) === registry);
  const helper = helperKey !== undefined ? config.credHelpers?.[helperKey] : config.credsStore;
  if (helper) {
    const fromHelper = await runCredentialHelper(helper, registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry, env);
    if (fromHelper) return fromHelper;
  }
  const entry = Object.entries(config.auths ?? {}).find(([k]) => configKeyToRegistry(k) === registry)?.[1];
  if (!entry || typeof entry !== 'object') return undefined;
  if (entry.identitytoken) return { kind: 'identity-token', token: entry.identitytoken };
  if (entry.registrytoken) return { kind: 'registry-token', token: entry.registrytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new LazyImageError('INVALID_FORMAT', `Invalid docker config ${path}: the auth entry for ${registry} is not base64 of user:password`);
    return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { kind: 'basic', username: entry.username, password: entry.password };
  return undefined;
}

/**
 * Runs `docker-credential-<name> get` with the server URL on stdin (the docker credential helper
 * protocol). "Not found" is not an error; anything else is, naming the helper but never the secret.
 */
export function runCredentialHelper(name: string, serverUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<Credential | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    return Promise.reject(new LazyImageError('INVALID_FORMAT', `Invalid credential helper name "${name}" in docker config`));
  }
  const program = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: HELPER_TIMEOUT_MS });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < MAX_HELPER_OUTPUT) out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (err.length < MAX_HELPER_OUTPUT) err += d;
    });
    child.on('error', (e) => reject(new LazyImageError('UNAUTHORIZED', `Cannot get credentials for ${serverUrl} from ${program}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed' : e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      if (code !== 0) {
        // Helpers print "not found" on stdout; other complaints may sit on either stream. Stdout
        // can hold a secret, so only a line that is plainly not a JSON reply is ever quoted.
        if (/credentials not found/i.test(out) || /credentials not found/i.test(err)) return resolve(undefined);
        const complaint = [err, out].map(firstLine).find((l) => l && !l.startsWith('{') && !/secret/i.test(l)) ?? '';
        const why = signal ? `killed by ${signal}` : `exit code ${code}${complaint ? `: ${complaint}` : ''}`;
        return reject(new LazyImageError('UNAUTHORIZED', `Cannot get credentials for ${serverUrl} from ${program}: ${why}`));
      }
      let reply: { Username?: unknown; Secret?: unknown };
      try {
        reply = JSON.parse(out) as typeof reply;
      } catch {
        // JSON.parse's message quotes the input, which holds the secret: say only what is wrong.
        return reject(new LazyImageError('UNAUTHORIZED', `Cannot get credentials for ${serverUrl} from ${program}: its reply is not JSON`));
      }
      if (typeof reply.Secret !== 'string' || typeof reply.Username !== 'string') {
        return reject(new LazyImageError('UNAUTHORIZED', `Cannot get credentials for ${serverUrl} from ${program}: its reply has no Username or Secret`));
      }
      if (reply.Secret === '') return resolve(undefined);
      resolve(reply.Username === '<token>' ? { kind: 'identity-token', token: reply.Secret } : { kind: 'basic', username: reply.Username, password: reply.Secret });
    });
    child.stdin.on('error', () => undefined); // a helper that exits without reading stdin
    child.stdin.end(serverUrl);
  });
}

/** Fixed credentials, e.g. from VS Code's SecretStorage or a worker request. */
export function staticCredentials(entries: Record<string, Credential>): CredentialProvider {
  return async (registry) => entries[registry];
}

/** The first provider that has a credential wins. */
export function chainCredentials(...providers: CredentialProvider[]): CredentialProvider {
  return async (registry) => {
    for (const p of providers) {
      const c = await p(registry);
      if (c) return c;
    }
    return undefined;
  };
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
