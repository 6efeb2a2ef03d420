// A daemon we run ourselves, with its own socket, root, config and log in a folder the user
// chose. The PID goes in a file there, so `stop` works from another process. The daemon is
// stopped with SIGINT (the only signal on which both unmount their FUSE layers), SIGKILL after
// a timeout, and whatever FUSE mount it left under its root is then unmounted lazily.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, constants, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { basename, dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { LazyImageError, SnapshotterError } from '../errors.js';
import { readDaemonConfig } from './config.js';
import { formatProblem } from './problems.js';
import { checkHealth } from './health.js';
import { lastLoggedError, logTail } from './logs.js';
import { unmountFuseUnder } from './mounts.js';
import { commandLine, isAlive, waitForExit } from './process.js';
import type { SnapshotterProfile } from './profiles.js';

export const READY_TIMEOUT_MS = 30_000;
export const STOP_TIMEOUT_MS = 10_000;
/** sockaddr_un holds 108 bytes with the final NUL. */
const MAX_SOCKET_PATH = 107;

export interface ManagedPaths {
  socket: string;
  root: string;
  config: string;
  logFile: string;
  pidFile: string;
}

export interface ManagedOptions {
  profile: SnapshotterProfile;
  /** The folder that holds everything not given explicitly. */
  dir?: string;
  socket?: string;
  root?: string;
  config?: string;
  logFile?: string;
  pidFile?: string;
}

export interface StartOptions extends ManagedOptions {
  binary: string;
  logLevel?: string;
  readyTimeoutMs?: number;
}

export interface ManagedDaemon extends ManagedPaths {
  pid: number;
}

export interface StopResult {
  /** Undefined when no daemon of ours was running. */
  pid: number | undefined;
  /** How it ended: SIGINT, or SIGKILL when SIGINT was not enough in time. */
  signal: 'SIGINT' | 'SIGKILL' | undefined;
  unmounted: string[];
}

/** Where a managed daemon's files are: `<dir>/<kind>.sock`, `<dir>/root`, `<dir>/config.toml`... */
export function managedPaths(options: ManagedOptions): ManagedPaths {
  const { profile, dir } = options;
  const socket = options.socket ?? (dir ? join(dir, `${profile.kind}.sock`) : profile.socket);
  const home = dir ?? dirname(socket);
  return {
    socket,
    root: options.root ?? (dir ? join(dir, 'root') : profile.root),
    config: options.config ?? (dir ? join(dir, 'config.toml') : profile.config),
    logFile: options.logFile ?? join(home, `${profile.kind}.log`),
    pidFile: options.pidFile ?? join(home, `${profile.kind}.pid`),
  };
}

/** True when a process accepts connections on the socket; a stale socket file is false. */
export function socketListening(socket: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = connect({ path: socket });
    const done = (listening: boolean): void => {
      conn.destroy();
      resolve(listening);
    };
    conn.setTimeout(timeoutMs, () => done(true)); // something holds it, just slowly
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
  });
}

/** The PID in the pid file, if that process is alive and is the daemon on this socket. */
export async function runningPid(paths: ManagedPaths, profile: SnapshotterProfile): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await readFile(paths.pidFile, 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0 || !(await isAlive(pid))) return undefined;
  // A PID can be reused: only a process of this binary on this socket is ours.
  const argv = await commandLine(pid);
  const ours = argv !== undefined && basename(argv[0] ?? '') === profile.binary && argv.includes(paths.socket);
  return ours ? pid : undefined;
}

/** Starts the daemon and waits until it answers on its socket. */
export async function startDaemon(options: StartOptions): Promise<ManagedDaemon> {
  const { profile, binary } = options;
  const paths = managedPaths(options);
  try {
    await access(binary, constants.X_OK);
    if (!(await stat(binary)).isFile()) throw new Error('not a file');
  } catch {
    throw new SnapshotterError('NOT_FOUND', `Cannot start ${profile.binary}: ${binary} is not an executable file`, { state: 'binary-missing', action: profile.hint, ref: binary });
  }
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
    throw new LazyImageError('INVALID_ARGUMENT', `Cannot start ${profile.binary}: the socket path ${paths.socket} is longer than ${MAX_SOCKET_PATH} bytes`);
  }
  const existing = await runningPid(paths, profile);
  if (existing !== undefined) {
    throw new SnapshotterError('INVALID_ARGUMENT', `Cannot start ${profile.binary}: it already runs as PID ${existing} on ${paths.socket}`, { state: 'already-running', action: `stop it first, or use restart`, ref: paths.socket });
  }
  if (await socketListening(paths.socket)) {
    throw new SnapshotterError('INVALID_ARGUMENT', `Cannot start ${profile.binary}: another process already listens on ${paths.socket}`, { state: 'socket-taken', action: `stop that process, or choose another socket or folder`, ref: paths.socket });
  }
  if (options.dir) await mkdir(options.dir, { recursive: true });
  await ensureConfig(paths.config);
  const config = await readDaemonConfig(profile, paths.config);
  const error = config.problems.find((p) => p.severity === 'error');
  if (error) {
    throw new SnapshotterError('INVALID_FORMAT', `Cannot start ${profile.binary}: ${formatProblem(error)}`, { state: 'config-invalid', action: `fix ${paths.config}${error.line === undefined ? '' : ` at line ${error.line}`}`, ref: paths.config, line: error.line });
  }
  await rm(paths.socket, { force: true }); // stale: nothing listens on it
  await mkdir(paths.root, { recursive: true });
  await mkdir(dirname(paths.logFile), { recursive: true });
  const logStart = await stat(paths.logFile).then((s) => s.size, () => 0);
  const log = openSync(paths.logFile, 'a');
  const args = ['--address', paths.socket, '--root', paths.root, '--config', paths.config, '--log-level', options.logLevel ?? 'info'];
  // Its own process group: a Ctrl-C meant for the CLI must not reach it.
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const spawned = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', (e) => reject(new SnapshotterError('NOT_FOUND', `Cannot start ${binary}: ${e.message}`, { state: 'binary-missing', action: profile.hint, cause: e })));
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => resolve(void (exit = { code, signal }))));
  await writeFile(paths.pidFile, `${spawned}\n`);
  const deadline = Date.now() + (options.readyTimeoutMs ?? READY_TIMEOUT_MS);
  for (let interval = 20; ; interval = Math.min(interval * 2, 250)) {
    if (exit === undefined) {
      const health = await checkHealth(paths.socket, { timeoutMs: 1000 });
      if (health.healthy) break;
    }
    if (exit !== undefined) {
      await rm(paths.pidFile, { force: true });
      const tail = await logTail(paths.logFile, 20, logStart);
      const reason = lastLoggedError(tail) ?? (tail.split('\n').pop() || 'no output');
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      throw new SnapshotterError('IO', `${profile.binary} ${how} right after start: ${reason}`, { state: 'died', action: `see ${paths.logFile}`, logTail: tail, ref: paths.socket });
    }
    if (Date.now() >= deadline) {
      await stopDaemon(options);
      const tail = await logTail(paths.logFile, 20, logStart);
      throw new SnapshotterError('TIMEOUT', `${profile.binary} did not answer on ${paths.socket} within ${options.readyTimeoutMs ?? READY_TIMEOUT_MS} ms; it was stopped`, { state: 'start-timeout', action: `see ${paths.logFile}`, logTail: tail, ref: paths.socket });
    }
    await Promise.race([exited, delay(Math.min(interval, Math.max(0, deadline - Date.now())))]);
  }
  child.unref(); // it outlives this process; stop finds it through the pid file
  return { ...paths, pid: spawned };
}

/** A daemon refuses a --config that does not exist (except at its default path), so start with an empty one. */
async function ensureConfig(config: string): Promise<void> {
  try {
    await writeFile(config, '# Settings for the daemon started by lazyimg; empty means its defaults.\n', { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new LazyImageError('IO', `Cannot write ${config}: ${(e as Error).message}`, { cause: e });
  }
}

/** Stops our daemon (SIGINT, then SIGKILL) and unmounts what it left under its root. */
export async function stopDaemon(options: ManagedOptions & { timeoutMs?: number }): Promise<StopResult> {
  const paths = managedPaths(options);
  const pid = await runningPid(paths, options.profile);
  let signal: StopResult['signal'];
  if (pid !== undefined) {
    signal = 'SIGINT';
    process.kill(pid, 'SIGINT');
    if (!(await waitForExit(pid, options.timeoutMs ?? STOP_TIMEOUT_MS))) {
      signal = 'SIGKILL';
      process.kill(pid, 'SIGKILL');
      if (!(await waitForExit(pid, 5000))) {
        throw new SnapshotterError('IO', `Cannot stop ${options.profile.binary} (PID ${pid}): it survived SIGKILL`, { state: 'stop-failed', action: `check the process with: ps -o pid,stat,cmd -p ${pid}` });
      }
    }
  }
  await rm(paths.pidFile, { force: true });
  const { unmounted, failed } = await unmountFuseUnder(paths.root);
  if (failed.length > 0) {
    throw new SnapshotterError('IO', `Cannot unmount ${failed.map((f) => `${f.mountPoint} (${f.reason})`).join(', ')}`, { state: 'stop-failed', action: `run: umount -l ${failed.map((f) => f.mountPoint).join(' ')}` });
  }
  if (!(await socketListening(paths.socket))) await rm(paths.socket, { force: true });
  return { pid, signal, unmounted };
}

/** Stops, then starts again with the same folder. */
export async function restartDaemon(options: StartOptions & { timeoutMs?: number }): Promise<ManagedDaemon & { stopped: StopResult }> {
  const stopped = await stopDaemon(options);
  return { ...(await startDaemon(options)), stopped };
}
