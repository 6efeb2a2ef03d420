// One run of a workload in a runc container, traced with strace: started in a process group of its
// own (a Ctrl-C reaches us, and we stop the container), stopped with `runc kill` when its period
// ends or the caller cancels, and deleted with `runc delete --force` whatever happened, so no
// container, process or cgroup outlives the run. runc keeps its state in the run's own folder.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { STRACE_OPTIONS } from './trace.js';

const exec = promisify(execFile);
/** Output kept for the report: the tail, where errors are. */
const OUTPUT_TAIL = 64 * 1024;
/** After `runc kill`, how long the run may take to end before its processes are killed outright. */
const STOP_GRACE_MS = 10_000;

export interface ContainerOptions {
  runc: string;
  strace: string;
  /** Holds config.json. */
  bundle: string;
  /** runc's --root. */
  state: string;
  id: string;
  traceFile: string;
  logFile: string;
  periodMs: number;
  signal?: AbortSignal;
  /** The workload's output as it comes (stdout and stderr). */
  onOutput?: (text: string) => void;
}

export interface ContainerRun {
  /** What `runc run` exited with: the workload's code, 128 + the signal that ended it, or runc's own failure. */
  exitCode: number | undefined;
  /** Stopped when the period ended. */
  stopped: boolean;
  cancelled: boolean;
  seconds: number;
  /** The errors runc logged (its message when it could not start the process). */
  runtimeErrors: string[];
  output: string;
}

export async function runContainer(options: ContainerOptions): Promise<ContainerRun> {
  const started = Date.now();
  const runc = (...args: string[]): string[] => ['--root', options.state, ...args];
  const child = spawn(options.strace, [
    ...STRACE_OPTIONS, '--seccomp-bpf', '-o', options.traceFile,
    options.runc, ...runc('--log', options.logFile, '--log-format', 'json', 'run', '--bundle', options.bundle, options.id),
  ], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  // Should this process end before the run, the container goes with it.
  const emergency = (): void => {
    try {
      execFileSync(options.runc, runc('delete', '--force', options.id), { stdio: 'ignore' });
    } catch {
      // Not created yet, or already gone.
    }
  };
  process.once('exit', emergency);
  let output = '';
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-OUTPUT_TAIL);
    options.onOutput?.(text);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | undefined>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? undefined));
  });
  let stopped = false;
  let cancelled = false;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= stopContainer(options, exited, child.pid));
  const timer = setTimeout(() => {
    stopped = true;
    void stop();
  }, options.periodMs);
  const onAbort = (): void => {
    cancelled = true;
    void stop();
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    const exitCode = await exited;
    await stopping;
    return { exitCode, stopped: stopped && !cancelled, cancelled, seconds: (Date.now() - started) / 1000, runtimeErrors: await runtimeErrors(options.logFile), output };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    await exec(options.runc, runc('delete', '--force', options.id)).catch(() => undefined);
    process.off('exit', emergency);
  }
}

/**
 * `runc kill` the container (retried while runc is still creating it), then waits for the run to
 * end; a run that will not end has its strace killed by PID and the container deleted by force.
 */
async function stopContainer(options: ContainerOptions, exited: Promise<unknown>, stracePid: number | undefined): Promise<void> {
  let done = false;
  void exited.finally(() => (done = true));
  const deadline = Date.now() + STOP_GRACE_MS;
  while (!done && Date.now() < deadline) {
    await exec(options.runc, ['--root', options.state, 'kill', options.id, 'KILL']).catch(() => undefined);
    await Promise.race([exited, delay(100)]);
  }
  if (done) return;
  if (stracePid !== undefined) {
    try {
      process.kill(stracePid, 'SIGKILL');
    } catch {
      // Ended meanwhile.
    }
  }
  await exec(options.runc, ['--root', options.state, 'delete', '--force', options.id]).catch(() => undefined);
  await exited.catch(() => undefined);
}

/** The messages of runc's error entries (its JSON log). */
async function runtimeErrors(logFile: string): Promise<string[]> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const errors: string[] = [];
  for (const line of text.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg) errors.push(entry.msg);
    } catch {
      // A line that is not JSON is not an entry.
    }
  }
  return errors;
}
