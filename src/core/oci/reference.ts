// Image references: `registry/repo[:tag][@digest]` with Docker Hub's normalization, and
// `oci:<dir>[:tag|@digest]` for OCI image layouts on disk.
import { LazyImageError } from '../errors.js';
import { parseDigest } from './digest.js';

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ENDPOINT = 'registry-1.docker.io';
const OCI_PREFIX = 'oci:';

export interface RegistryReference {
  kind: 'registry';
  /** Normalized registry name, e.g. `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export interface LayoutReference {
  kind: 'oci-layout';
  path: string;
  tag?: string;
  digest?: string;
}

export type ImageReference = RegistryReference | LayoutReference;

const TAG_RE = /^[\w][\w.-]{0,127}$/;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_RE = /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]{1,5})?$/;
const MAX_NAME_LENGTH = 255;

function invalid(input: string, why: string): LazyImageError {
  return new LazyImageError('INVALID_REFERENCE', `Invalid reference "${input}": ${why}`, { ref: input });
}

function checkedDigest(digest: string, input: string): string {
  try {
    parseDigest(digest);
  } catch (e) {
    throw invalid(input, (e as Error).message);
  }
  return digest;
}

/** Parses either form. A bare name such as `ubuntu` means `docker.io/library/ubuntu:latest`. */
export function parseReference(input: string): ImageReference {
  return input.startsWith(OCI_PREFIX) ? parseLayoutReference(input) : parseRegistryReference(input);
}

export function parseRegistryReference(input: string): RegistryReference {
  if (input.length === 0) throw invalid(input, 'it is empty');
  if (/\s/.test(input)) throw invalid(input, 'it contains whitespace');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = checkedDigest(rest.slice(at + 1), input);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(input, `tag "${tag}" must be 1-128 characters of letters, digits, "_", "." and "-", not starting with "." or "-"`);
  }
  const { registry, repository } = splitName(rest, input);
  return {
    kind: 'registry',
    registry,
    repository,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
    ...(tag === undefined && digest === undefined ? { tag: 'latest' } : {}),
  };
}

/** Splits `[registry/]path` the way Docker does and applies Docker Hub's `library/` rule. */
function splitName(name: string, input: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let registry = DOCKER_HUB;
  let repository = name;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.toLowerCase() !== first)) {
    registry = normalizeRegistry(first, input);
    repository = name.slice(slash + 1);
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  validateRepository(repository, input);
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) throw invalid(input, `name is longer than ${MAX_NAME_LENGTH} characters`);
  return { registry, repository };
}

export function normalizeRegistry(host: string, input = host): string {
  if (!HOST_RE.test(host)) throw invalid(input, `"${host}" is not a valid registry host`);
  const port = /:(\d+)$/.exec(host)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw invalid(input, `port ${port} is out of range`);
  const lower = host.toLowerCase();
  return lower === 'index.docker.io' || lower === 'registry-1.docker.io' ? DOCKER_HUB : lower;
}

function validateRepository(repository: string, input: string): void {
  if (repository.length === 0) throw invalid(input, 'the repository name is empty');
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT_RE.test(component)) {
      throw invalid(input, `repository component "${component}" must be lowercase letters and digits, separated by ".", "_", "__" or "-"`);
    }
  }
}

export function parseLayoutReference(input: string): LayoutReference {
  let rest = input.slice(OCI_PREFIX.length);
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0 && /^[a-z0-9]+:/.test(rest.slice(at + 1))) {
    digest = checkedDigest(rest.slice(at + 1), input);
    rest = rest.slice(0, at);
  }
  // A tag before the digest is kept for display, as formatReference writes it.
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    // The layout spec lets ref names hold more than Docker tags; keep them printable and short.
    if (!/^[\w][\w.:/+-]{0,254}$/.test(tag)) throw invalid(input, `tag "${tag}" has characters an OCI layout ref name cannot hold`);
  }
  if (rest.length === 0) throw invalid(input, 'the OCI layout path is empty');
  return { kind: 'oci-layout', path: rest, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/** The canonical text of a reference, e.g. `docker.io/library/ubuntu:latest`. */
export function formatReference(ref: ImageReference): string {
  const base = ref.kind === 'registry' ? `${ref.registry}/${ref.repository}` : `${OCI_PREFIX}${ref.path}`;
  return `${base}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** The same image, pinned to a digest (the tag is kept for display). */
export function withDigest<T extends ImageReference>(ref: T, digest: string): T {
  return { ...ref, digest };
}

/** Host and port to connect to for a registry name (Docker Hub serves its API elsewhere). */
export function registryEndpoint(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_ENDPOINT : registry;
}

export interface RegistryTarget {
  registry: string;
  repository?: string;
}

/**
 * What `lazyimg ls` takes: a registry (`ghcr.io`, `127.0.0.1:5000`) or a repository in one
 * (`ghcr.io/org/app`, `ubuntu`). One component that looks like a host is a registry.
 */
export function parseRegistryTarget(input: string): RegistryTarget {
  const trimmed = input.replace(/\/+$/, '');
  if (!trimmed.includes('/') && (trimmed.includes('.') || trimmed.includes(':') || trimmed === 'localhost')) {
    return { registry: normalizeRegistry(trimmed, input) };
  }
  const ref = parseRegistryReference(trimmed);
  if (ref.digest !== undefined || ref.tag !== 'latest' || trimmed.endsWith(':latest')) {
    throw invalid(input, 'expected a registry or a repository, without a tag or digest');
  }
  return { registry: ref.registry, repository: ref.repository };
}
