// A startup profile: the files a workload read, in the order it first read them, each with the
// layer of the recorded image that provides it. `optimize --record-out` writes one and `convert
// --prioritize-file` reads it back, as it reads a plain list of paths (one a line, `#` comments)
// and ctr-remote's record (JSON lines with a `path`). A profile puts each file first in its own
// layer; a layer it does not know (the image was rebuilt) gets every recorded path, as ctr-remote's
// `--estargz-record-in` gives every path to every layer.
import { LazyImageError } from '../errors.js';
import type { Descriptor } from '../oci/index.js';

export const PROFILE_KIND = 'lazyimg-startup-profile';
export const PROFILE_VERSION = 1;

export interface ProfileFile {
  /** Clean path in the image (`usr/bin/python3.11`): links resolved, as the container read it. */
  path: string;
  /** 1-based index of the layer that provides it (the topmost that lists it). */
  layer: number;
  /** That layer's digest in the recorded image. */
  digest: string;
  size: number;
  /** How the workload came to read it: opened, executed, or loaded by the kernel for an executable. */
  how: 'open' | 'exec' | 'interpreter';
}

export interface ProfileRun {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
  network: boolean;
  periodSeconds: number;
  /** How long it ran, how it ended: the exit code, or stopped when the period ran out. */
  seconds: number;
  exitCode?: number;
  stopped: boolean;
}

export interface StartupProfile {
  kind: typeof PROFILE_KIND;
  version: typeof PROFILE_VERSION;
  /** The image recorded: its manifest and layers (base first). */
  image: { manifest: string; layers: string[] };
  run: ProfileRun;
  /** In order of first access. */
  files: ProfileFile[];
}

/** A file of paths to prioritize, in any of the forms `convert --prioritize-file` takes. */
export type PrioritizeList = { kind: 'paths'; paths: string[] } | { kind: 'profile'; profile: StartupProfile };

export function parsePrioritizeFile(text: string, where: string): PrioritizeList {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    const firstLine = trimmed.split('\n', 1)[0]!.trim();
    // ctr-remote's record: one JSON object a line, each with a path.
    if (firstLine.endsWith('}') && /"path"\s*:/.test(firstLine) && !firstLine.includes(PROFILE_KIND)) return { kind: 'paths', paths: recordPaths(trimmed, where) };
    return { kind: 'profile', profile: parseProfile(trimmed, where) };
  }
  return { kind: 'paths', paths: text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) };
}

export function parseProfile(text: string, where: string): StartupProfile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw bad(where, `not JSON (${(e as Error).message})`);
  }
  const p = value as Partial<StartupProfile>;
  if (p.kind !== PROFILE_KIND) throw bad(where, `not a startup profile (its kind is ${JSON.stringify(p.kind)}, not ${PROFILE_KIND})`);
  if (p.version !== PROFILE_VERSION) throw bad(where, `profile version ${JSON.stringify(p.version)} is not ${PROFILE_VERSION}`);
  if (!Array.isArray(p.image?.layers) || !p.image.layers.every((l) => typeof l === 'string')) throw bad(where, 'image.layers is not a list of digests');
  if (!Array.isArray(p.files)) throw bad(where, 'files is not a list');
  p.files.forEach((f, i) => {
    if (typeof f?.path !== 'string' || f.path === '' || typeof f.digest !== 'string' || !Number.isSafeInteger(f.layer)) throw bad(where, `files[${i}] needs a path, a layer and a digest`);
  });
  return p as StartupProfile;
}

/** The paths to put first in `layer`: its own files when the profile recorded that layer, else every file. */
export function profilePaths(profile: StartupProfile, layer: Descriptor): string[] {
  if (!profile.image.layers.includes(layer.digest)) return profile.files.map((f) => f.path);
  return profile.files.filter((f) => f.digest === layer.digest).map((f) => f.path);
}

/**
 * The recorded files as SOCI prefetch files: absolute paths of what the container read, links
 * resolved, since soci matches them against the layers' tar names exactly (a path through a
 * symlink would name the link's own entry, or nothing).
 */
export function profilePrefetchFiles(profile: StartupProfile): string[] {
  return [...new Set(profile.files.map((f) => `/${f.path}`))];
}

/** The profile as written to a file: indented, so it reads and diffs as text. */
export function profileText(profile: StartupProfile): string {
  return `${JSON.stringify(profile, null, 2)}\n`;
}

function recordPaths(text: string, where: string): string[] {
  const paths = new Set<string>();
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let entry: { path?: unknown };
    try {
      entry = JSON.parse(line) as { path?: unknown };
    } catch {
      throw bad(where, `line ${i + 1} is not JSON`);
    }
    if (typeof entry.path !== 'string') throw bad(where, `line ${i + 1} has no path`);
    paths.add(entry.path);
  });
  return [...paths];
}

function bad(where: string, what: string): LazyImageError {
  return new LazyImageError('INVALID_FORMAT', `${where}: ${what}`, { ref: where });
}
