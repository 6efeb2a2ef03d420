// What the benchmark scripts share: running commands in their own process groups (stopped on
// exit), timing them under GNU time, reading a daemon's CPU and peak RSS from /proc, OCI layouts.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createReadStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, homedir, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { ANNOTATION_REF_NAME } from '../../src/core/oci/index.js';
import { startContainerd, type Containerd } from '../../test/integration/fixtures/containerd.js';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const CACHE = process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images');
export const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** The images scripts/bench/estargzData.sh builds once, in CACHE/bench-estargz/<name>/layout, tag bookworm. */
export const DATASETS = [
  { name: 'minbase', label: 'Debian bookworm minbase, one layer' },
  { name: 'layers', label: 'the same files in 4 layers' },
];

export interface Timing {
  wallS: number;
  cpuS: number;
  rssMiB: number;
}

export interface Manifest {
  manifests?: Array<{ digest: string }>;
  layers: Array<{ digest: string; size: number; annotations?: Record<string, string> }>;
}

/** Commands still running, for the 'exit' handler. */
export const running = new Set<ChildProcess>();

/** Runs a command to completion; a failure carries its stderr. */
export function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((done, fail) => {
    // Its own process group, so the whole group can be stopped: `time` does not pass signals on.
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env, detached: true });
    running.add(child);
    child.on('exit', () => running.delete(child));
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`${command} ${args.join(' ')} exited ${code}: ${err.trim()}`));
      done(out);
    });
  });
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** user+sys seconds a process has used so far (fields 14 and 15 of /proc/<pid>/stat, in ticks). */
export function cpuSeconds(pid: number, ticks: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / ticks;
}

/** Peak RSS of a process since the last reset (writing 5 to clear_refs resets VmHWM; needs root). */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
export function peakMiB(pid: number): number {
  const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

/** Runs a command under GNU time: wall (our clock), user+sys and peak RSS of the child. */
export async function timed(time: string, report: string, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Timing> {
  const start = process.hrtime.bigint();
  await run(time, ['-f', '%U %S %M', '-o', report, command, ...args], env);
  const wallS = Number(process.hrtime.bigint() - start) / 1e9;
  const [user, sys, kib] = readFileSync(report, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? [];
  return { wallS, cpuS: (user as number) + (sys as number), rssMiB: (kib as number) / 1024 };
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** The digest tagged `tag` in an OCI layout, or without a tag its first entry (soci's output has one). */
export async function taggedDigest(layout: string, tag?: string): Promise<string> {
  const index = await readJson<{ manifests: Array<{ digest: string; annotations?: Record<string, string> }> }>(join(layout, 'index.json'));
  const entry = tag === undefined ? index.manifests[0] : index.manifests.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === tag);
  if (!entry) throw new Error(`${layout} has no ${tag === undefined ? 'manifest' : `tag ${tag}`}`);
  return entry.digest;
}

/** The manifest tagged `tag` in an OCI layout (single-platform images, as the datasets are). */
export async function layoutManifest(layout: string, tag: string): Promise<Manifest> {
  return readJson<Manifest>(join(layout, 'blobs', ...(await taggedDigest(layout, tag)).split(':')));
}

/** The machine, for a benchmark's first line. */
export function machine(): string {
  return `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

/** Runs a benchmark's main function; a failure prints and exits 1. */
export function runMain(main: () => Promise<void>): void {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

/** Reads every file once so neither tool pays for the disk in its first run. */
export async function warm(paths: string[]): Promise<void> {
  for (const path of paths) {
    for await (const chunk of createReadStream(path)) void chunk;
  }
}

export interface Workspace {
  dir: string;
  /** The environment for the tools: their temporary files go in `dir` too. */
  env: NodeJS.ProcessEnv;
  containerd: Containerd;
  close(): Promise<void>;
}

/** Waits, synchronously (for 'exit' handlers), up to `seconds` for a process group to be gone. */
function awaitGroupSync(pgid: number, seconds: number): void {
  spawnSync('sh', ['-c', 'i=0; while kill -0 -- "-$1" 2>/dev/null && [ $i -lt "$2" ]; do sleep 0.1; i=$((i+1)); done', 'sh', String(pgid), String(seconds * 10)]);
}

/**
 * A scratch folder and a private containerd in it. The normal way out is `close`; a signal or an
 * uncaught error (stdout closed by `| head`) skips it, but 'exit' handlers still run,
 * synchronously, so the last resort lives there: the running commands get SIGTERM and up to 20 s
 * to undo what they started (a lazyimg optimize its container, ctr-remote its task), then
 * `atExit` undoes what is left in containerd's hands, then containerd is killed and the folder removed.
 */
export async function workspace(prefix: string, options: { atExit?: (dir: string) => void } = {}): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const started: { containerd?: Containerd } = {};
  process.once('exit', () => {
    const groups = [...running].map((child) => child.pid as number);
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
    for (const pgid of groups) awaitGroupSync(pgid, 20);
    options.atExit?.(dir);
    started.containerd?.kill();
    rmSync(dir, { recursive: true, force: true });
  });
  process.once('SIGINT', () => process.exit(130)).once('SIGTERM', () => process.exit(143));
  const containerd = await startContainerd({ dir: join(dir, 'containerd') });
  started.containerd = containerd;
  return {
    dir, env: { ...process.env, TMPDIR: dir }, containerd,
    close: async () => {
      await containerd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
