// Which process owns a lock or a temporary file, and whether it still runs. A pid alone is not
// enough: pids are recycled, so a live process with the pid of a dead writer would be taken for
// it. Linux gives each process a start time (field 22 of /proc/<pid>/stat, in clock ticks since
// boot), which together with the pid names one process. Elsewhere only the pid is checked.
// Folders shared between machines or containers see pids of other pid namespaces: those owners
// cannot be checked here, so the host name is recorded too.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface Owner {
  pid: number;
  /** Start time of the process; empty where the system does not tell. */
  start: string;
  /** A short hash of the host name: the pid means something only on that host. */
  host: string;
}

export type Liveness = 'alive' | 'dead' | 'unknown';

let self: Owner | undefined;

/** This process. */
export function currentOwner(): Owner {
  self ??= { pid: process.pid, start: startTime(process.pid) ?? '', host: hostTag() };
  return self;
}

/** Whether `owner` still runs: 'unknown' for an owner on another host. */
export function liveness(owner: Owner): Liveness {
  if (owner.host !== currentOwner().host) return 'unknown';
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return 'dead';
  try {
    process.kill(owner.pid, 0);
  } catch (e) {
    // EPERM: it runs, as another user.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return 'dead';
  }
  if (!owner.start) return 'alive';
  const start = startTime(owner.pid);
  // No /proc entry any more (it just ended), a zombie, or another process with a recycled pid.
  return start === owner.start ? 'alive' : 'dead';
}

/**
 * The start time of a live process, or undefined where /proc is missing (macOS, Windows) or the
 * process has ended or is a zombie.
 */
function startTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name in parentheses may hold spaces and parentheses: fields follow the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

function hostTag(): string {
  return createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
}

/** `<host>-<pid>-<start>`, for names of files a process owns. */
export function ownerTag(owner: Owner = currentOwner()): string {
  return `${owner.host}-${owner.pid}-${owner.start || '0'}`;
}

/** The owner a name made by `ownerTag` records, or undefined if it does not hold one. */
export function parseOwnerTag(text: string): Owner | undefined {
  const m = /^([0-9a-f]{8})-(\d+)-(\d+)$/.exec(text);
  if (!m) return undefined;
  return { host: m[1]!, pid: Number(m[2]), start: m[3] === '0' ? '' : m[3]! };
}
