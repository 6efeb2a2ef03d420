// Recording which files of an image a workload reads as it starts: the layers unpacked into a
// folder of the job's own, an overlay over it as root (the workload writes to a scratch layer, the
// image stays as it was), the workload run in a runc container under strace for its period, and the
// trace turned into the image's files, each with the layer that provides it. Whatever happens,
// the container is deleted, the overlay unmounted and the folder removed.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LazyImageError, throwIfAborted } from '../errors.js';
import type { Descriptor, ImageConfig, ImageStore } from '../oci/index.js';
import { cleanEntryName } from '../tar/index.js';
import { runContainer, type ContainerRun } from './container.js';
import { interpreterOf } from './interpreter.js';
import { privileges, type Privileges } from './privileges.js';
import type { ProfileFile } from './profile.js';
import { resolveIn } from './rootPath.js';
import { unpackLayers, type UnpackedRoot } from './rootfs.js';
import { runtimeMounts, runtimeSpec, type SandboxOptions } from './spec.js';
import { findTool } from './tools.js';
import { parseTrace, type Access } from './trace.js';
import { resolveWorkload, workloadCommand, type Workload, type WorkloadOverrides } from './workload.js';

const exec = promisify(execFile);
export const DEFAULT_PERIOD_SECONDS = 10;
/** Interpreters of interpreters the kernel follows (a script run by a script): BINPRM's depth, and a bound on loops. */
const MAX_INTERPRETER_DEPTH = 4;
const TICK_MS = 250;

export interface RecordOptions extends WorkloadOverrides {
  /** Seconds to watch the workload before it is stopped (default 10, as ctr-remote). */
  periodSeconds?: number;
  network?: boolean;
  /** The runc binary: a path, or a name looked up on PATH (default `runc`). */
  runtime?: string;
  /** Where the job's folder goes (default the system's temporary folder). */
  workDir?: string;
  signal?: AbortSignal;
  onStep?: (step: RecordStep) => void;
  /** The workload's output as it comes. */
  onOutput?: (text: string) => void;
}

export type RecordStep =
  | { step: 'unpack'; layer: number; layers: number; done: number; total: number }
  | { step: 'run'; elapsedMs: number; periodMs: number; finished: boolean };

export interface Recording {
  files: ProfileFile[];
  workload: Workload;
  run: Omit<ContainerRun, 'cancelled' | 'runtimeErrors'>;
  /** Device files and fifos of the layers, which the container does not get (it has the runtime's /dev). */
  skipped: number;
}

/**
 * What a recording needs before anything is read: a sensible period, runc and strace, and root or
 * user namespaces. Returns the programs' paths and how the container will be made.
 */
export async function checkRecorder(options: Pick<RecordOptions, 'periodSeconds' | 'runtime'>, where = 'the image'): Promise<{ runc: string; strace: string; privileges: Privileges }> {
  const periodSeconds = options.periodSeconds ?? DEFAULT_PERIOD_SECONDS;
  if (!(periodSeconds > 0) || !Number.isFinite(periodSeconds)) throw new LazyImageError('INVALID_ARGUMENT', `The period must be a positive number of seconds, not ${periodSeconds}`);
  const runc = await findTool(options.runtime ?? 'runc', 'the container runtime', 'install runc (apt-get install runc) or name it with --runtime');
  const strace = await findTool('strace', 'the tracer that records what the workload opens', 'install strace (apt-get install strace)');
  return { runc, strace, privileges: await privileges(where) };
}

/** Runs the image's workload (its config, with `options` overriding) and records the image files it read. */
export async function recordWorkload(store: ImageStore, image: { manifest: { layers: Descriptor[] }; config?: ImageConfig }, where: string, options: RecordOptions = {}): Promise<Recording> {
  const periodSeconds = options.periodSeconds ?? DEFAULT_PERIOD_SECONDS;
  workloadCommand(image.config, options, where);
  const { runc, strace, privileges: how } = await checkRecorder(options, where);
  const job = await mkdtemp(join(options.workDir ?? tmpdir(), 'lazyimg-optimize-'));
  const layers = image.manifest.layers;
  let mounted: string | undefined;
  try {
    const root = await unpackLayers(store, layers, join(job, 'image'), where, {
      signal: options.signal,
      owners: how.kind === 'root',
      onLayer: (layer, done) => options.onStep?.({ step: 'unpack', layer, layers: layers.length, done: Math.min(done, layers[layer - 1]!.size), total: layers[layer - 1]!.size }),
    });
    throwIfAborted(options.signal, where);
    const workload = await resolveWorkload(image.config, options, root.dir, where);
    const { uid, gid, additionalGids } = workload.user;
    if (how.kind === 'rootless' && (uid !== 0 || gid !== 0 || additionalGids.length > 0)) {
      // runc maps only the caller's own IDs without newuidmap: the container has root and no one else.
      throw new LazyImageError('UNSUPPORTED', `Cannot run the workload of ${where} as ${workload.userName} (uid ${uid}, gid ${gid}${additionalGids.length ? `, groups ${additionalGids.join(',')}` : ''}) without root: a rootless container has one user, its root; run lazyimg as root, or pass --user 0`, { ref: where });
    }
    // Rootless, the workload writes to the unpacked folder itself: only root may mount an overlay here.
    if (how.kind === 'root') mounted = await overlay(root.dir, job);
    const sandbox: SandboxOptions = { network: options.network ?? false, hostname: 'lazyimg-optimize', ...(how.kind === 'rootless' ? { rootless: how } : {}) };
    const bundle = join(job, 'bundle');
    await mkdir(bundle);
    await writeFile(join(bundle, 'config.json'), JSON.stringify(runtimeSpec(workload, mounted ?? root.dir, sandbox)));
    const periodMs = periodSeconds * 1000;
    const started = Date.now();
    const ticker = setInterval(() => options.onStep?.({ step: 'run', elapsedMs: Math.min(Date.now() - started, periodMs), periodMs, finished: false }), TICK_MS);
    let run: ContainerRun;
    try {
      run = await runContainer({
        runc, strace, bundle, state: join(job, 'runc'), id: `lazyimg-optimize-${job.slice(-6).toLowerCase()}`,
        traceFile: join(job, 'trace'), logFile: join(job, 'runc.log'), periodMs, signal: options.signal, onOutput: options.onOutput,
      });
    } finally {
      clearInterval(ticker);
    }
    options.onStep?.({ step: 'run', elapsedMs: periodMs, periodMs, finished: true });
    if (run.cancelled) throw new LazyImageError('CANCELLED', 'Cancelled', { ref: where });
    const trace = parseTrace(await readFile(join(job, 'trace'), 'utf8'), workload.args, workload.cwd);
    if (!trace.started) {
      const message = run.runtimeErrors.at(-1) ?? `runc exited with ${run.exitCode ?? 'a signal'} before starting it: ${run.output.trim().split('\n').at(-1) ?? ''}`;
      const code = /not found|no such file/i.test(message) ? 'NOT_FOUND' : 'IO';
      throw new LazyImageError(code, `Cannot run ${JSON.stringify(workload.args)} in ${where}: ${message}`, { ref: where });
    }
    const files = await imageFiles(trace.accesses, root, layers, runtimeMounts(sandbox).map((m) => m.destination), where);
    const { exitCode, stopped, seconds, output } = run;
    return { files, workload, run: { exitCode, stopped, seconds, output }, skipped: root.skipped };
  } finally {
    if (mounted) await unmount(mounted);
    await rm(job, { recursive: true, force: true });
  }
}

/**
 * The image files behind the accesses, first access first: regular files the layers provide,
 * links resolved; an executable brings its interpreters. What the runtime mounts (/proc, /dev,
 * the host's resolv.conf) and what the workload made itself are not the image's.
 */
async function imageFiles(accesses: Access[], root: UnpackedRoot, layers: Descriptor[], mounts: string[], where: string): Promise<ProfileFile[]> {
  const files = new Map<string, ProfileFile>();
  const add = async (path: string, how: ProfileFile['how']): Promise<string | undefined> => {
    if (mounts.some((m) => path === m || path.startsWith(`${m}/`))) return undefined;
    const { path: resolved, entry } = await resolveIn(root.dir, path, where).catch(() => ({ path: '', entry: undefined }));
    const layer = root.provider(resolved);
    if (entry?.type !== 'reg' || layer === undefined) return undefined;
    if (!files.has(resolved)) files.set(resolved, { path: resolved, layer, digest: layers[layer - 1]!.digest, size: entry.size, how });
    return resolved;
  };
  for (const access of accesses) {
    let program = await add(access.path, access.kind);
    for (let depth = 0; access.kind === 'exec' && program !== undefined && depth < MAX_INTERPRETER_DEPTH; depth++) {
      const interpreter = await interpreterOf(join(root.dir, program)).catch(() => undefined);
      program = interpreter ? await add(interpreter.path.startsWith('/') ? interpreter.path : `/${cleanEntryName(interpreter.path)}`, 'interpreter') : undefined;
    }
  }
  return [...files.values()];
}

/** An overlay with the unpacked image as its read-only lower layer; its mount point. */
async function overlay(lower: string, job: string): Promise<string> {
  const [upper, work, merged] = ['upper', 'work', 'rootfs'].map((d) => join(job, d)) as [string, string, string];
  await Promise.all([upper, work, merged].map((d) => mkdir(d)));
  try {
    await exec('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
  } catch (e) {
    throw new LazyImageError('IO', `Cannot mount an overlay of the unpacked image at ${merged}: ${((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`, { cause: e });
  }
  return merged;
}

async function unmount(path: string): Promise<void> {
  try {
    await exec('umount', [path]);
  } catch {
    // Busy a moment after the container ended: detach it now, the kernel frees it once unused.
    await exec('umount', ['-l', path]).catch(() => undefined);
  }
}
