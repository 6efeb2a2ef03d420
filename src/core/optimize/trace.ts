// Reading what `strace -f -y -xx --pidns-translation` wrote while runc ran a container: the files
// the workload opened and the programs it executed, in the order the calls returned. runc's own
// calls come first in the same trace (runc, then `runc init` setting up the container); the
// workload is the process whose execve carries the container's argv, from that call on, with every
// process and thread it starts.
import { posix } from 'node:path';

/** The strace options the parser expects: hex strings (-xx), fd paths (-y), host PIDs for children. */
export const STRACE_OPTIONS = ['-f', '-qq', '-v', '-xx', '-y', '-s', '65536', '--pidns-translation', '-e', 'signal=none', '-e', 'trace=open,openat,openat2,execve,execveat,clone,clone3,fork,vfork'];

export interface Access {
  kind: 'open' | 'exec';
  /** Absolute in the container. An open's path comes from the kernel (links resolved); an exec's is as the program named it. */
  path: string;
  pid: number;
}

export interface WorkloadTrace {
  /** False when no execve of the workload's argv succeeded: the runtime failed before it started. */
  started: boolean;
  accesses: Access[];
}

interface Call {
  pid: number;
  name: string;
  args: string;
  result: string;
}

const LINE = /^(\d+) +(\w+)\((.*)$/;
const RESUMED = /^(\d+) +<\.\.\. (\w+) resumed>(.*)$/;
const UNFINISHED = ' <unfinished ...>';
/** name(args) = result; the args end at the last `)` before the `=` (a result's own text has none). */
const CALL = /^(\w+)\((.*)\)\s+= (.*)$/;
const HEX_STRING = /"((?:\\x[0-9a-f]{2})*)"/g;
const FD_PATH = /^(?:\d+|AT_FDCWD)<((?:\\x[0-9a-f]{2})+)>/;
const CHILD = /^(\d+)(?: \/\* (\d+) in strace's PID NS \*\/)?$/;

/** Parses the trace; `args` is the container's process.args, `cwd` its working folder. */
export function parseTrace(text: string, args: readonly string[], cwd: string): WorkloadTrace {
  const calls = joinCalls(text);
  const parents = new Map<number, number>();
  const cwds = new Map<number, string>();
  let root: { pid: number; at: number } | undefined;
  const accesses: Array<Access & { at: number }> = [];
  calls.forEach((call, at) => {
    const dirCwd = /AT_FDCWD<((?:\\x[0-9a-f]{2})+)>/.exec(call.args);
    if (dirCwd) cwds.set(call.pid, decodeHex(dirCwd[1]!));
    if (['clone', 'clone3', 'fork', 'vfork'].includes(call.name)) {
      const child = CHILD.exec(call.result);
      if (child) {
        const pid = Number(child[2] ?? child[1]);
        parents.set(pid, call.pid);
        const known = cwds.get(call.pid);
        if (known !== undefined && !cwds.has(pid)) cwds.set(pid, known);
      }
      return;
    }
    if (call.name === 'execve' || call.name === 'execveat') {
      if (call.result !== '0') return;
      const { path: named, argv } = execArgs(call.args);
      if (!root && argv.length === args.length && args.every((a, i) => argv[i] === a)) root = { pid: call.pid, at };
      const path = execPath(call, named, cwds.get(call.pid) ?? cwd);
      if (path) accesses.push({ kind: 'exec', path, pid: call.pid, at });
      return;
    }
    if (/\bO_(?:PATH|DIRECTORY)\b/.test(call.args)) return; // no content is read through these
    const fd = FD_PATH.exec(call.result);
    if (fd) accesses.push({ kind: 'open', path: decodeHex(fd[1]!), pid: call.pid, at });
  });
  if (!root) return { started: false, accesses: [] };
  const inWorkload = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && hops < 10_000; p = parents.get(p), hops++) if (p === root!.pid) return true;
    return false;
  };
  return {
    started: true,
    accesses: accesses.filter((a) => a.at >= root!.at && inWorkload(a.pid)).map(({ kind, path, pid }) => ({ kind, path, pid })),
  };
}

/** Lines joined across `<unfinished ...>`/`<... resumed>`, in the order the calls returned. */
function joinCalls(text: string): Call[] {
  const pending = new Map<number, string>();
  const calls: Call[] = [];
  for (const line of text.split('\n')) {
    const resumed = RESUMED.exec(line);
    let pid: number;
    let full: string;
    if (resumed) {
      pid = Number(resumed[1]);
      const start = pending.get(pid);
      pending.delete(pid);
      if (start === undefined) continue;
      full = start + resumed[3]!;
    } else {
      const m = LINE.exec(line);
      if (!m) continue;
      pid = Number(m[1]);
      full = `${m[2]}(${m[3]}`;
      if (line.endsWith(UNFINISHED)) {
        pending.set(pid, full.slice(0, -UNFINISHED.length));
        continue;
      }
    }
    // strace pads the ` = ` after a resumed call to align the results.
    const call = CALL.exec(full);
    if (call) calls.push({ pid, name: call[1]!, args: call[2]!, result: call[3]!.trim() });
  }
  return calls;
}

/** The path and argv of an execve or execveat: the first string, then the strings of the first array. */
function execArgs(args: string): { path: string; argv: string[] } {
  const first = /"((?:\\x[0-9a-f]{2})*)"/.exec(args);
  const open = args.indexOf('[', first ? first.index + first[0].length : 0);
  const close = args.indexOf(']', open);
  const list = open < 0 || close < 0 ? '' : args.slice(open, close);
  return { path: first ? decodeHex(first[1]!) : '', argv: [...list.matchAll(HEX_STRING)].map((m) => decodeHex(m[1]!)) };
}

/** The program an execve or execveat ran, absolute in the container. */
function execPath(call: Call, path: string, cwd: string): string | undefined {
  if (call.name === 'execveat') {
    const dir = FD_PATH.exec(call.args);
    const base = dir ? decodeHex(dir[1]!) : undefined;
    if (path === '') return base; // AT_EMPTY_PATH: the descriptor is the program
    if (!path.startsWith('/')) return base === undefined ? undefined : posix.join(base, path);
    return path;
  }
  return path.startsWith('/') ? path : posix.join(cwd, path);
}

function decodeHex(hex: string): string {
  return Buffer.from(hex.replace(/\\x/g, ''), 'hex').toString('utf8');
}
