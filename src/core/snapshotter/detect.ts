// Which daemon binaries are installed, and which versions: PATH and the paths the caller adds
// (a tools cache, a setting), each asked for `--version`.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import type { SnapshotterProfile } from './profiles.js';

const VERSION_TIMEOUT_MS = 5000;

export interface DaemonVersion {
  /** `v0.16.1`; undefined when the build does not know it (`<unknown>`, a `go install` build). */
  version: string | undefined;
  revision: string | undefined;
  /** What `--version` printed, first line. */
  raw: string;
}

export interface InstalledDaemon extends DaemonVersion {
  path: string;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses `--version` output: stargz prints `containerd-stargz-grpc v0.19.1 <rev>`, soci
 * `soci-snapshotter-grpc version v0.16.1 <rev>` (urfave/cli's shape).
 */
export function parseVersionOutput(binary: string, output: string): DaemonVersion {
  const raw = output.trim().split('\n')[0]?.trim() ?? '';
  const words = raw.split(/\s+/).filter((w) => w !== '');
  if (words[0] === binary || words[0]?.endsWith(`/${binary}`)) words.shift();
  if (words[0] === 'version') words.shift();
  const known = (w: string | undefined): string | undefined => (w === undefined || w === '<unknown>' || w === '' ? undefined : w);
  return { version: known(words[0]), revision: known(words[1]), raw };
}

/** Runs `<path> --version`; a binary that cannot say is reported with what went wrong. */
export function readVersion(binary: string, path: string): Promise<DaemonVersion> {
  return new Promise((resolve) => {
    execFile(path, ['--version'], { timeout: VERSION_TIMEOUT_MS }, (error, stdout, stderr) => {
      const output = `${stdout}`.trim() || `${stderr}`.trim();
      // A build without the flag (a test build of the stargz daemon) exits 2 with its usage.
      if (error) resolve({ version: undefined, revision: undefined, raw: `--version failed: ${output.split('\n')[0] || error.message}` });
      else resolve(parseVersionOutput(binary, output));
    });
  });
}

/** Where the binary would be found: the explicit paths (files or folders) first, then PATH. */
export async function findBinary(profile: Pick<SnapshotterProfile, 'binary'>, extraPaths: readonly string[] = [], pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = [
    ...extraPaths.map((p) => (p.endsWith(`/${profile.binary}`) ? p : join(p, profile.binary))),
    ...pathEnv.split(delimiter).filter((d) => isAbsolute(d)).map((d) => join(d, profile.binary)),
  ];
  for (const candidate of candidates) if (await executable(candidate)) return candidate;
  return undefined;
}

/** The installed daemon and its version, or undefined when it is not installed. */
export async function detectDaemon(profile: SnapshotterProfile, extraPaths: readonly string[] = []): Promise<InstalledDaemon | undefined> {
  const path = await findBinary(profile, extraPaths);
  if (path === undefined) return undefined;
  return { path, ...(await readVersion(profile.binary, path)) };
}
