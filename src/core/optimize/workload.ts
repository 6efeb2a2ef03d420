// What a container of the image runs: its config's entrypoint, command, environment, folder and
// user, each replaced where the caller says, as `docker run` has it (a new entrypoint drops the
// image's command). The user is resolved to numeric IDs from the image's own /etc/passwd and
// /etc/group, which is what a runtime spec needs.
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { LazyImageError } from '../errors.js';
import type { ImageConfig } from '../oci/index.js';
import { resolveIn } from './rootPath.js';

export interface WorkloadOverrides {
  entrypoint?: string[];
  /** The command (the image's Cmd); with `entrypoint` and no `args`, none. */
  args?: string[];
  /** `KEY=VALUE`, added to the image's or replacing the same key. */
  env?: string[];
  cwd?: string;
  /** `user[:group]`, names or numbers. */
  user?: string;
}

export interface Workload {
  args: string[];
  env: string[];
  cwd: string;
  /** As given (the config's or the override), for people. */
  userName: string;
  user: { uid: number; gid: number; additionalGids: number[] };
}

/** What docker uses when an image sets no PATH. */
const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The command line and environment, checked before anything is unpacked. */
export function workloadCommand(config: ImageConfig | undefined, overrides: WorkloadOverrides, where: string): Pick<Workload, 'args' | 'env' | 'cwd'> {
  const c = config?.config ?? {};
  const entrypoint = overrides.entrypoint ?? c.Entrypoint ?? [];
  const command = overrides.args ?? (overrides.entrypoint ? [] : c.Cmd ?? []);
  const args = [...entrypoint, ...command];
  if (args.length === 0) throw new LazyImageError('INVALID_ARGUMENT', `Cannot run ${where}: its config has no entrypoint and no command; give one with --entrypoint or --args`, { ref: where });
  for (const e of overrides.env ?? []) {
    if (!/^[^=]+=/.test(e)) throw new LazyImageError('INVALID_ARGUMENT', `Cannot run ${where}: --env ${e} is not KEY=VALUE`, { ref: where });
  }
  const env = mergeEnv(c.Env ?? [], overrides.env ?? []);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  const cwd = overrides.cwd || c.WorkingDir || '/';
  if (!cwd.startsWith('/')) throw new LazyImageError('INVALID_ARGUMENT', `Cannot run ${where}: the working folder ${cwd} is not absolute`, { ref: where });
  return { args, env, cwd: posix.normalize(cwd) };
}

/** The process to run; `root` is the unpacked image, where names of users and groups are looked up. */
export async function resolveWorkload(config: ImageConfig | undefined, overrides: WorkloadOverrides, root: string, where: string): Promise<Workload> {
  const userName = overrides.user || config?.config?.User || '0';
  return { ...workloadCommand(config, overrides, where), userName, user: await resolveUser(userName, root, where) };
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const byKey = new Map<string, string>();
  for (const e of [...base, ...extra]) byKey.set(e.split('=', 1)[0]!, e);
  return [...byKey.values()];
}

interface DbEntry {
  name: string;
  id: number;
  /** passwd: the primary group; group: the members. */
  rest: string[];
}

/** `user[:group]` as IDs: names from the image's files, numbers as they are (a number need not be listed). */
async function resolveUser(spec: string, root: string, where: string): Promise<Workload['user']> {
  const [userPart = '', groupPart] = spec.split(':', 2);
  const passwd = await readDb(root, 'etc/passwd', where, (f) => ({ name: f[0]!, id: Number(f[2]), rest: [f[3] ?? ''] }));
  const groups = await readDb(root, 'etc/group', where, (f) => ({ name: f[0]!, id: Number(f[2]), rest: (f[3] ?? '').split(',').filter(Boolean) }));
  const numeric = /^\d+$/.test(userPart);
  const account = passwd.find((p) => (numeric ? p.id === Number(userPart) : p.name === userPart));
  if (!numeric && !account) throw new LazyImageError('NOT_FOUND', `Cannot run ${where} as ${spec}: no user ${userPart} in the image's /etc/passwd`, { ref: where });
  const uid = numeric ? Number(userPart) : account!.id;
  let gid = account ? Number(account.rest[0]) : 0;
  if (groupPart !== undefined) {
    if (/^\d+$/.test(groupPart)) {
      gid = Number(groupPart);
    } else {
      const group = groups.find((g) => g.name === groupPart);
      if (!group) throw new LazyImageError('NOT_FOUND', `Cannot run ${where} as ${spec}: no group ${groupPart} in the image's /etc/group`, { ref: where });
      gid = group.id;
    }
  }
  // Without a group named, the user's other groups come along, as docker does.
  const additionalGids = groupPart === undefined && account ? groups.filter((g) => g.rest.includes(account.name) && g.id !== gid).map((g) => g.id) : [];
  if (!Number.isSafeInteger(uid) || !Number.isSafeInteger(gid)) throw new LazyImageError('INVALID_FORMAT', `Cannot run ${where} as ${spec}: the image's account files give no numeric IDs for it`, { ref: where });
  return { uid, gid, additionalGids };
}

/** Colon-separated lines of an account file of the image, links followed inside it; none when it is missing. */
async function readDb(root: string, path: string, where: string, entry: (fields: string[]) => DbEntry): Promise<DbEntry[]> {
  const { path: resolved, entry: found } = await resolveIn(root, path, where);
  if (found?.type !== 'reg') return [];
  const text = await readFile(`${root}/${resolved}`, 'utf8');
  return text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => entry(l.split(':'))).filter((e) => Number.isSafeInteger(e.id));
}
