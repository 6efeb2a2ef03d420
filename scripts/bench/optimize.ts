// `npm run bench:optimize`: what putting a workload's start-up files first buys a lazily pulled
// container. The Debian base image, a workload that starts Python and imports a few modules
// (about a hundred files), and four images of it: pulled in full (containerd's overlayfs), and
// pulled with `ctr-remote images rpull` through containerd-stargz-grpc with prefetch on (no
// background fetch, so the bytes are what the start needs) as eStargz without prioritized files
// (`lazyimg convert`), optimized by `lazyimg optimize` and optimized by `ctr-remote images
// optimize` (Debian's 0.12, on Debian's containerd 1.6), both recording the same workload. Each
// pull goes through a counting proxy into a fresh containerd v2.2.9 and daemon; the workload runs
// in a real runc container on the pulled snapshot (pullRun.ts), timed from the start of the pull
// to its first output. Also timed: each optimize run, ours against ctr-remote's. Medians of
// BENCH_RUNS runs, the pull cases in an order rotated from run to run and reversed every other run.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { StartupProfile } from '../../src/core/optimize/index.js';
import { requireTool } from '../../test/helpers/tools.js';
import { startRegistry, type RegistryFixture } from '../../test/integration/fixtures/registry.js';
import { CLI, machine, median, run, RUNS, runMain, workspace } from './measure.js';
import { BASE, describeImage, mib, runOrder, seconds, startPullRunner, type ImageInfo, type PullCase, type PullRunner, type PullSample } from './pullRun.js';

const REPO = 'bench/optimize';
/** The image has no entrypoint or command of its own; both optimizers and the container run this. */
const WORKLOAD = ['python3', '-c', 'import json, email, http.client; print(1)'];

const CASES: PullCase[] = [
  { key: 'full', label: 'full pull, overlayfs', tag: 'src', snapshotter: 'overlayfs' },
  { key: 'plain', label: 'eStargz, no prioritized files (lazyimg convert)', tag: 'plain', snapshotter: 'stargz' },
  { key: 'opt', label: 'eStargz optimized by lazyimg optimize', tag: 'opt', snapshotter: 'stargz' },
  { key: 'ref-opt', label: 'eStargz optimized by ctr-remote images optimize', tag: 'ref-opt', snapshotter: 'stargz' },
];

/** What the daemon prefetches at mount: the layers' bytes before `.prefetch.landmark` (none with `.no.prefetch.landmark`). */
async function prefetchBytes(ref: string, layers: number, env: NodeJS.ProcessEnv, insecure: string): Promise<number> {
  let total = 0;
  for (let layer = 1; layer <= layers; layer++) {
    const toc = JSON.parse(await run(process.execPath, [CLI, '--insecure', insecure, 'toc', ref, '--layer', String(layer), '--json'], env)) as { entries: Array<{ name: string; offset?: number }> };
    total += toc.entries.find((e) => e.name === '.prefetch.landmark')?.offset ?? 0;
  }
  return total;
}

/**
 * What `ctr-remote images optimize` leaves when it is stopped mid-run, in containerd 1.6's hands
 * (`dir`'s containerd, namespace default): the runc container, under containerd's default runc
 * root but with its bundle in `dir`; the shim, which outlives containerd by design; the rootfs
 * ctr-remote mounted in its TMPDIR, `dir`. Synchronous, for an 'exit' handler.
 */
function undoCtrRemoteRun(runc: string, dir: string): void {
  const runcRoot = '/run/containerd/runc/default';
  const listed = spawnSync(runc, ['--root', runcRoot, 'list', '--format', 'json'], { encoding: 'utf8' });
  const containers = (listed.status === 0 ? JSON.parse(listed.stdout || 'null') : null) as Array<{ id: string; bundle: string }> | null;
  for (const c of containers ?? []) {
    if (c.bundle.startsWith(`${dir}/`)) spawnSync(runc, ['--root', runcRoot, 'delete', '--force', c.id]);
  }
  const address = join(dir, 'containerd', 'containerd.sock');
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('containerd-shim-runc-v2') && argv.includes(address)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  // mountinfo escapes space, tab, newline and backslash in octal; the deepest mount goes first.
  const unescape = (m: string): string => m.replace(/\\([0-7]{3})/g, (_x, o: string) => String.fromCharCode(parseInt(o, 8)));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => unescape(l.split(' ')[4] ?? '')).filter((m) => m.startsWith(`${dir}/`));
  for (const m of mounts.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
}

const range = (values: number[]): string => `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`;

async function main(): Promise<void> {
  const bin = {
    ctrRemote: requireTool('ctr-remote', 'apt-get install stargz-snapshotter containerd'),
    runc: requireTool('runc', 'apt-get install runc'),
  };
  requireTool('strace', 'apt-get install strace');
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh`);
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, not ${process.env.BENCH_RUNS}`);

  // The registry, should a failed or interrupted run skip the `finally` below.
  const live: { registry?: RegistryFixture } = {};
  process.once('exit', () => live.registry?.kill());
  const ws = await workspace('lazyimg-bench-optimize-', { atExit: (dir) => undoCtrRemoteRun(bin.runc, dir) });
  const { dir, env, containerd } = ws;
  let runner: PullRunner | undefined;
  try {
    const runcVersion = (await run(bin.runc, ['--version'])).split('\n')[0];
    const registry = await startRegistry({ flavor: '3' });
    live.registry = registry;
    const repo = `${registry.host}/${REPO}`;
    const lazyimg = (...args: string[]): Promise<number> => seconds(process.execPath, [CLI, '--insecure', registry.host, ...args], env);
    const ctr = (...args: string[]): Promise<number> => seconds(bin.ctrRemote, ['--address', containerd.address, ...args], env);
    const loads = [loadavg()[0]!];
    console.log(`Startup optimization of the Debian base image, medians of ${RUNS} runs; ${machine()}; containerd v2.2.9 (pulls) and Debian's 1.6 (ctr-remote), stargz v0.19.1, ${runcVersion}; load average at start ${loads[0]!.toFixed(2)}`);

    process.stderr.write('preparing the images\n');
    await lazyimg('copy', `oci:${BASE}:bookworm`, `${repo}:src`);
    const convertS = await lazyimg('convert', '--format', 'estargz', `${repo}:src`, `${repo}:plain`);
    await containerd.importLayout(BASE, 'src');

    // The optimize runs, ours and ctr-remote's taking turns to go first. Ours goes registry to
    // registry; ctr-remote's works on the image imported into containerd, and its push is timed apart.
    const entrypoint = JSON.stringify(WORKLOAD);
    const optimizeS: Record<'ours' | 'theirs', number[]> = { ours: [], theirs: [] };
    const recorded: Record<'ours' | 'theirs', string[][]> = { ours: [], theirs: [] };
    const steps = {
      ours: async (i: number): Promise<void> => {
        const profile = join(dir, `profile-${i}.json`);
        optimizeS.ours.push(await lazyimg('optimize', `${repo}:src`, `${repo}:opt`, '--entrypoint', entrypoint, '--record-out', profile));
        recorded.ours.push((JSON.parse(await readFile(profile, 'utf8')) as StartupProfile).files.map((f) => f.path));
      },
      theirs: async (i: number): Promise<void> => {
        const record = join(dir, `record-${i}.jsonl`);
        optimizeS.theirs.push(await ctr('images', 'optimize', '--oci', '--entrypoint', entrypoint, '--record-out', record, 'src:bookworm', `opt:${i}`));
        const lines = (await readFile(record, 'utf8')).split('\n').filter(Boolean);
        recorded.theirs.push([...new Set(lines.map((l) => (JSON.parse(l) as { path: string }).path))]);
      },
    };
    for (let i = 0; i < RUNS; i++) {
      for (const who of i % 2 === 0 ? (['ours', 'theirs'] as const) : (['theirs', 'ours'] as const)) {
        await steps[who](i);
        process.stderr.write(`optimize run ${i + 1}/${RUNS}, ${who === 'ours' ? 'lazyimg' : 'ctr-remote'}: ${optimizeS[who][i]!.toFixed(1)} s, ${recorded[who][i]!.length} files recorded; load ${loadavg()[0]!.toFixed(2)}\n`);
      }
    }
    const pushS = await ctr('images', 'push', '--plain-http', `${repo}:ref-opt`, `opt:${RUNS - 1}`);
    await containerd.stop(); // not needed any more: one daemon less during the pulls
    loads.push(loadavg()[0]!);

    const images = new Map<string, ImageInfo>();
    const prefetched = new Map<string, number>();
    for (const c of CASES) {
      const image = await describeImage(registry.host, REPO, c.tag);
      images.set(c.tag, image);
      if (c.snapshotter === 'stargz') prefetched.set(c.tag, await prefetchBytes(`${repo}:${c.tag}`, image.layers.length, env, registry.host));
    }

    runner = await startPullRunner({
      dir, registryHost: registry.host, repo: REPO, command: WORKLOAD,
      daemon: { prefetch: true },
      check: (stdout) => {
        if (stdout !== '1\n') throw new Error(`unexpected output: ${JSON.stringify(stdout)}`);
      },
    });
    const samples = new Map<string, PullSample[]>(CASES.map((c) => [c.key, []]));
    for (let i = 0; i < RUNS; i++) {
      loads.push(loadavg()[0]!);
      for (const c of runOrder(CASES, i)) {
        const s = await runner.measure(c, images.get(c.tag)!, i);
        samples.get(c.key)!.push(s);
        process.stderr.write(`run ${i + 1}/${RUNS} ${c.label}: ready ${s.readyS.toFixed(2)} s (${mib(s.ready.bytes)} MiB), first output ${s.firstS.toFixed(2)} s (${mib(s.first.bytes)} MiB, ${s.first.requests} requests${s.onDemandFetches === undefined ? '' : `, ${s.onDemandFetches} on demand`}); load ${loadavg()[0]!.toFixed(2)}\n`);
      }
    }

    const m = (key: string, pick: (s: PullSample) => number): number => median(samples.get(key)!.map(pick));
    const vs = (key: string, base: string, pick: (s: PullSample) => number): string => `${(m(key, pick) / m(base, pick)).toFixed(2)}x`;

    const [ours, theirs] = [median(optimizeS.ours), median(optimizeS.theirs)];
    console.log(`\nThe optimize runs (s), of an image of ${mib(images.get('src')!.totalBytes)} MiB (one gzip layer):`);
    console.log('| tool | median | range | files recorded | vs ctr-remote |');
    console.log('|---|---:|---:|---:|---:|');
    console.log(`| lazyimg optimize (registry to registry: download, unpack, traced run, convert, upload) | ${ours.toFixed(1)} | ${range(optimizeS.ours)} | ${[...new Set(recorded.ours.map((r) => r.length))].join(', ')} | ${(ours / theirs).toFixed(2)}x |`);
    console.log(`| ctr-remote images optimize (in containerd 1.6: unpack, fanotify run, convert) | ${theirs.toFixed(1)} | ${range(optimizeS.theirs)} | ${[...new Set(recorded.theirs.map((r) => r.length))].join(', ')} | 1.00x |`);
    console.log(`ctr-remote images push of its image: ${pushS.toFixed(2)} s; lazyimg convert without prioritized files (registry to registry, once): ${convertS.toFixed(1)} s`);
    const [lastOurs, lastTheirs] = [recorded.ours.at(-1)!, recorded.theirs.at(-1)!];
    const onlyOurs = lastOurs.filter((p) => !lastTheirs.includes(p));
    const onlyTheirs = lastTheirs.filter((p) => !lastOurs.includes(p));
    console.log(`Recorded files of the images pulled: ${onlyOurs.length + onlyTheirs.length === 0 ? `the same ${lastOurs.length} for both` : `lazyimg only ${JSON.stringify(onlyOurs)}, ctr-remote only ${JSON.stringify(onlyTheirs)}`}`);

    console.log(`\nTimes from the start of the pull to \`${WORKLOAD.join(' ')}\`'s first output (s), medians of ${RUNS}:`);
    console.log('| case | image (MiB) | prefetched at mount (MiB) | rootfs ready | first output | first output vs full pull | vs no prioritized files |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const c of CASES) {
      const pre = prefetched.get(c.tag);
      console.log(`| ${c.label} | ${mib(images.get(c.tag)!.totalBytes)} | ${pre === undefined ? '–' : mib(pre)} | ${m(c.key, (s) => s.readyS).toFixed(2)} | ${m(c.key, (s) => s.firstS).toFixed(2)} | ` +
        `${vs(c.key, 'full', (s) => s.firstS)} | ${vs(c.key, 'plain', (s) => s.firstS)} |`);
    }
    console.log('\nBytes the registry sent by then (MiB), medians; "of the layer" is the layer blob, the rest is manifests and config:');
    console.log('| case | at rootfs ready | requests | at first output | of the layer | requests | on-demand fetches (daemon) | vs full pull | vs no prioritized files |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of CASES) {
      const onDemand = c.snapshotter === 'stargz' ? String(m(c.key, (s) => s.onDemandFetches!)) : '–';
      console.log(`| ${c.label} | ${mib(m(c.key, (s) => s.ready.bytes))} | ${m(c.key, (s) => s.ready.requests)} | ${mib(m(c.key, (s) => s.first.bytes))} | ${mib(m(c.key, (s) => s.first.layerBytes))} | ${m(c.key, (s) => s.first.requests)} | ${onDemand} | ` +
        `${vs(c.key, 'full', (s) => s.first.bytes)} | ${vs(c.key, 'plain', (s) => s.first.bytes)} |`);
    }
    console.log(`\nload average at the start of the optimize runs ${loads[0]!.toFixed(2)}, of the pulls ${loads[1]!.toFixed(2)}, of each pull run ${loads.slice(2).map((l) => l.toFixed(2)).join(', ')}; at the end ${loadavg()[0]!.toFixed(2)}`);
  } finally {
    await runner?.close();
    await live.registry?.stop();
    live.registry = undefined;
    await ws.close();
  }
}

runMain(main);
