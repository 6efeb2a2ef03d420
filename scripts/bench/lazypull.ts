// `npm run bench:lazypull`: how soon a container of the Debian base image runs, pulled in full
// (containerd's overlayfs snapshotter) and pulled lazily: eStargz through containerd-stargz-grpc,
// from `lazyimg convert` and from ctr-remote, and SOCI v2 through soci-snapshotter-grpc, from
// `lazyimg index` and from `soci convert`. Every pull goes through a proxy that counts the bytes
// the registry sends, to a fresh containerd v2.2.9 and daemon (test/integration/fixtures), so
// nothing is cached. From the start of the pull: when the image's root filesystem is ready (the
// pull command returns), and, with a snapshot of it mounted as a bundle's rootfs and run by runc,
// when the command prints its first byte and when it exits. Medians of BENCH_RUNS runs; each run
// does every case once, in an order rotated from run to run and reversed every other run, so that
// load, and what the case before leaves behind, fall on all alike.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir, loadavg } from 'node:os';
import { join } from 'node:path';
import { requireCachedTool, requireTool } from '../../test/helpers/tools.js';
import type { FakeServer } from '../../test/integration/fixtures/fakeServer.js';
import { startRegistry, type RegistryFixture } from '../../test/integration/fixtures/registry.js';
import { startRegistryProxy } from '../../test/integration/fixtures/registryProxy.js';
import { startSnapshotters, type DaemonKind, type SnapshotterStack } from '../../test/integration/fixtures/snapshotters.js';
import { CLI, machine, median, run, RUNS, runMain, workspace } from './measure.js';

const BASE = join(process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images'), 'base-bookworm', 'layout');
const REPO = 'bench/debian';
/** sh and cat print first; python3's start-up and ls of /usr/bin read more of the image before the exit. */
const COMMAND = ['/bin/sh', '-c', 'cat /etc/os-release; python3 -c "import json, sys; print(sys.version.split()[0])"; ls /usr/bin | wc -l'];
const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

interface Case {
  key: string;
  label: string;
  tag: string;
  snapshotter: 'overlayfs' | DaemonKind;
}

const CASES: Case[] = [
  { key: 'full', label: 'full pull, overlayfs', tag: 'src', snapshotter: 'overlayfs' },
  { key: 'esgz', label: 'eStargz from lazyimg convert, stargz', tag: 'esgz', snapshotter: 'stargz' },
  { key: 'ref-esgz', label: 'eStargz from ctr-remote, stargz', tag: 'ref-esgz', snapshotter: 'stargz' },
  { key: 'soci', label: 'SOCI v2 from lazyimg index, soci', tag: 'soci', snapshotter: 'soci' },
  { key: 'ref-soci', label: 'SOCI v2 from soci convert, soci', tag: 'ref-soci', snapshotter: 'soci' },
];

/** What the proxy has sent so far for the case being measured. */
interface Fetched {
  bytes: number;
  /** Of which the image's layer blobs (an eStargz layer holds its TOC; a zTOC is a blob of its own). */
  layerBytes: number;
  requests: number;
}

interface Sample {
  readyS: number;
  firstS: number;
  doneS: number;
  ready: Fetched;
  first: Fetched;
  done: Fetched;
  /** Whether some blob came more than once (soci's zTOC, at times: see BENCHMARKS.md). */
  blobTwice: boolean;
}

interface ImageInfo {
  digest: string;
  layers: string[];
  /** The chain ID of the top layer: the committed snapshot a container's snapshot is made from. */
  chainId: string;
  /** The size of every blob under the tag (for SOCI, the zTOCs too), by its path on the registry. */
  blobs: Map<string, number>;
  /** Every blob and manifest under the tag. */
  totalBytes: number;
}

interface Descriptor { digest: string; size: number; artifactType?: string; platform?: { os: string; architecture: string } }
interface Document { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[]; rootfs?: { diff_ids: string[] } }

/** Walks the image under `tag` straight from the registry (not through the proxy). */
async function describeImage(host: string, tag: string): Promise<ImageInfo> {
  const get = async (path: string): Promise<{ doc: Document; digest: string; size: number }> => {
    const res = await fetch(`http://${host}/v2/${REPO}/${path}`, { headers: { accept: ACCEPT } });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { doc: JSON.parse(body.toString()) as Document, digest: res.headers.get('docker-content-digest') ?? '', size: body.length };
  };
  const top = await get(`manifests/${tag}`);
  let totalBytes = top.size;
  const blobs = new Map<string, number>();
  const addBlobs = (doc: Document): void => {
    for (const b of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) blobs.set(`/v2/${REPO}/blobs/${b.digest}`, b.size);
  };
  let image = top.doc;
  for (const child of top.doc.manifests ?? []) {
    const m = await get(`manifests/${child.digest}`);
    totalBytes += m.size;
    addBlobs(m.doc);
    if (!child.artifactType && child.platform?.os === 'linux' && child.platform.architecture === 'amd64') image = m.doc;
  }
  if (!top.doc.manifests) addBlobs(image);
  for (const size of blobs.values()) totalBytes += size;
  const diffIds = (await get(`blobs/${image.config!.digest}`)).doc.rootfs!.diff_ids;
  // containerd's chain ID: the first diff ID, then sha256("<parent chain ID> <diff ID>").
  const chainId = diffIds.reduce((parent, diffId) => `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`);
  return { digest: top.digest, layers: (image.layers ?? []).map((l) => l.digest), chainId, blobs, totalBytes };
}

/** Seconds a command takes to run to completion. */
async function seconds(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const start = performance.now();
  await run(command, args, env);
  return (performance.now() - start) / 1000;
}

const mib = (n: number): string => (n / 2 ** 20).toFixed(2);

async function main(): Promise<void> {
  const bin = {
    ctrRemote: requireTool('ctr-remote', 'apt-get install stargz-snapshotter containerd'),
    runc: requireTool('runc', 'apt-get install runc'),
    mount: requireTool('mount', 'apt-get install mount'),
    umount: requireTool('umount', 'apt-get install mount'),
    soci: requireCachedTool('soci-v0.16.1/soci'),
  };
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh`);
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, not ${process.env.BENCH_RUNS}`);

  // What a failed or interrupted run leaves, undone by PID and path before the workspace folder
  // (registered after this) is removed: a runc container, the rootfs mount, the registry.
  const live: { container?: string; rootfs?: string; registry?: RegistryFixture; runcRoot?: string } = {};
  process.once('exit', () => {
    if (live.container) spawnSync(bin.runc, ['--root', live.runcRoot!, 'delete', '--force', live.container]);
    if (live.rootfs) spawnSync(bin.umount, ['-l', live.rootfs]);
    live.registry?.kill();
  });
  const ws = await workspace('lazyimg-bench-lazypull-');
  const { dir, env, containerd } = ws;
  let proxy: FakeServer | undefined;
  try {
    const runcVersion = (await run(bin.runc, ['--version'])).split('\n')[0];
    const registry = await startRegistry({ flavor: '3' });
    live.registry = registry;
    const repo = `${registry.host}/${REPO}`;
    const lazyimg = (...args: string[]): Promise<number> => seconds(process.execPath, [CLI, '--insecure', registry.host, ...args], env);

    // Preparation, once: the source image and the four lazy ones, each tool timed.
    const prep: Array<[string, number]> = [];
    process.stderr.write('preparing the images\n');
    prep.push(['lazyimg copy (layout to registry)', await lazyimg('copy', `oci:${BASE}:bookworm`, `${repo}:src`)]);
    prep.push(['lazyimg convert --format estargz (registry to registry)', await lazyimg('convert', '--format', 'estargz', `${repo}:src`, `${repo}:esgz`)]);
    prep.push(['lazyimg index (registry to registry)', await lazyimg('index', `${repo}:src`, `${repo}:soci`)]);
    const ctr = (...args: string[]): Promise<number> => seconds(bin.ctrRemote, ['--address', containerd.address, ...args], env);
    const archive = join(dir, 'base.tar');
    await run('tar', ['-C', BASE, '-cf', archive, '.']);
    prep.push(['ctr-remote images import (Debian containerd 1.6)', await ctr('images', 'import', '--no-unpack', '--base-name', 'src', archive)]);
    prep.push(['ctr-remote images convert --estargz --oci', await ctr('images', 'convert', '--estargz', '--oci', 'src:bookworm', 'src:esgz')]);
    prep.push(['ctr-remote images push (its eStargz)', await ctr('images', 'push', '--plain-http', `${repo}:ref-esgz`, 'src:esgz')]);
    prep.push(['soci convert (v0.16.1, same containerd)', await seconds(bin.soci, ['--address', containerd.address, '--root', join(dir, 'soci-root'), 'convert', 'src:bookworm', 'bench/debian:soci'], env)]);
    prep.push(['ctr-remote images push (soci\'s SOCI image)', await ctr('images', 'push', '--plain-http', `${repo}:ref-soci`, 'bench/debian:soci')]);
    await containerd.stop(); // not needed any more: one daemon less during the pulls
    const images = new Map<string, ImageInfo>();
    for (const c of CASES) images.set(c.tag, await describeImage(registry.host, c.tag));

    // The proxy counts what the registry sends for the case being measured.
    let counting: Fetched = { bytes: 0, layerBytes: 0, requests: 0 };
    let layerPaths = new Set<string>();
    const byPath = new Map<string, number>();
    proxy = await startRegistryProxy(registry.host, {
      headers: () => void counting.requests++, // once per response
      onResponseBytes: (url, n) => {
        counting.bytes += n;
        if (layerPaths.has(url.pathname)) counting.layerBytes += n;
        byPath.set(url.pathname, (byPath.get(url.pathname) ?? 0) + n);
      },
    });

    // One bundle whose rootfs each case's snapshot is mounted on; runc keeps its state in the workspace.
    const bundle = join(dir, 'bundle');
    const rootfs = join(bundle, 'rootfs');
    live.runcRoot = join(dir, 'runc');
    await mkdir(rootfs, { recursive: true });
    await run(bin.runc, ['spec', '--bundle', bundle]);
    const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean }; root: { readonly: boolean }; hostname?: string };
    spec.process.args = COMMAND;
    spec.process.terminal = false;
    spec.root.readonly = false;
    spec.hostname = 'lazypull';
    await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));

    /** runc runs the bundle; resolves at exit with the moments of its first stdout byte and its exit. */
    const runContainer = (id: string, start: number): Promise<{ firstS: number; first: Fetched; doneS: number; stdout: string }> => new Promise((done, fail) => {
      const child = spawn(bin.runc, ['--root', live.runcRoot!, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let firstS = NaN;
      let first: Fetched | undefined;
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        if (!first) {
          firstS = (performance.now() - start) / 1000;
          first = { ...counting };
        }
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', fail);
      child.on('close', (code) => {
        const doneS = (performance.now() - start) / 1000;
        if (code !== 0 || !first) return fail(new Error(`runc run ${id} exited ${code}: ${stderr.trim()}`));
        done({ firstS, first, doneS, stdout });
      });
    });

    const measure = async (c: Case, runIndex: number): Promise<Sample> => {
      const image = images.get(c.tag)!;
      const stack: SnapshotterStack = await startSnapshotters({ proxies: c.snapshotter === 'overlayfs' ? [] : [c.snapshotter] });
      const id = `lazyimg-bench-${c.key}-${runIndex}`;
      try {
        const ref = `${proxy!.host}/${REPO}:${c.tag}`;
        layerPaths = new Set(image.layers.map((d) => `/v2/${REPO}/blobs/${d}`));
        counting = { bytes: 0, layerBytes: 0, requests: 0 };
        byPath.clear();
        const start = performance.now();
        // Without proxy plugins containerd's transfer service unpacks into its default, overlayfs.
        if (c.snapshotter === 'overlayfs') await stack.ctr('images', 'pull', '--plain-http', ref);
        else await stack.pull(ref, c.snapshotter);
        const readyS = (performance.now() - start) / 1000;
        const ready = { ...counting };
        const mounts = JSON.parse(await stack.ctr('snapshots', '--snapshotter', c.snapshotter, 'prepare', '--mounts', id, image.chainId)) as Array<{ Type: string; Source: string; Options: string[] }>;
        live.rootfs = rootfs;
        for (const m of mounts) {
          await run(bin.mount, [...(m.Type === 'bind' ? [] : ['-t', m.Type]), '-o', m.Options.join(','), m.Source, rootfs]);
        }
        live.container = id;
        const { firstS, first, doneS, stdout } = await runContainer(id, start);
        const done = { ...counting };
        live.container = undefined;
        if (!stdout.includes('Debian GNU/Linux 12') || !/^3\.11\.\d+$/m.test(stdout)) throw new Error(`${c.label}: unexpected output:\n${stdout}`);
        if (c.snapshotter !== 'overlayfs') {
          // A silent fallback to a full download would be no lazy pull at all.
          const labels = await stack.snapshotLabels(c.snapshotter, image.chainId);
          if (!('containerd.io/snapshot/remote' in labels)) throw new Error(`${c.label}: the snapshot is not remote: ${JSON.stringify(labels)}`);
        }
        const blobTwice = [...image.blobs].some(([path, size]) => (byPath.get(path) ?? 0) > size);
        return { readyS, firstS, doneS, ready, first, done, blobTwice };
      } finally {
        try {
          if (live.container) {
            await run(bin.runc, ['--root', live.runcRoot!, 'delete', '--force', id]).catch(() => '');
            live.container = undefined;
          }
          // Several mounts may be stacked on the rootfs: unmount until it is no mount point.
          while (live.rootfs && readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === rootfs)) await run(bin.umount, [rootfs]);
          live.rootfs = undefined;
        } finally {
          await stack.stop();
        }
      }
    };

    const loads = [loadavg()[0]!];
    console.log(`Lazy pull of the Debian base image, median of ${RUNS} runs; ${machine()}; containerd v2.2.9, stargz v0.19.1, soci v0.16.1, ${runcVersion}; load average at start ${loads[0]!.toFixed(2)}`);
    const samples = new Map<string, Sample[]>(CASES.map((c) => [c.key, []]));
    for (let i = 0; i < RUNS; i++) {
      loads.push(loadavg()[0]!);
      for (let j = 0; j < CASES.length; j++) {
        const c = CASES[(i + (i % 2 === 0 ? j : CASES.length - 1 - j)) % CASES.length]!;
        const s = await measure(c, i);
        samples.get(c.key)!.push(s);
        process.stderr.write(`run ${i + 1}/${RUNS} ${c.label}: ready ${s.readyS.toFixed(2)} s (${mib(s.ready.bytes)} MiB), first output ${s.firstS.toFixed(2)} s (${mib(s.first.bytes)} MiB), done ${s.doneS.toFixed(2)} s (${mib(s.done.bytes)} MiB)${s.blobTwice ? ', a blob fetched twice' : ''}; load ${loadavg()[0]!.toFixed(2)}\n`);
      }
    }

    const m = (key: string, pick: (s: Sample) => number): number => median(samples.get(key)!.map(pick));
    const full = (pick: (s: Sample) => number): number => m('full', pick);
    console.log('\nPreparation (one run each; the lazyimg steps go registry to registry, the reference tools work in containerd):');
    console.log('| step | wall (s) |');
    console.log('|---|---:|');
    for (const [step, s] of prep) console.log(`| ${step} | ${s.toFixed(2)} |`);
    const digest = (tag: string): string => images.get(tag)!.digest;
    console.log(`SOCI-enabled image index: lazyimg index ${digest('soci')}, soci convert ${digest('ref-soci')}: ${digest('soci') === digest('ref-soci') ? 'the same' : 'different'}`);

    console.log('\nTimes from the start of the pull (s), medians:');
    console.log('| case | image (MiB) | rootfs ready | first output | command done | ready vs full pull | first output vs full pull | done vs full pull |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of CASES) {
      const [r, f, d] = [m(c.key, (s) => s.readyS), m(c.key, (s) => s.firstS), m(c.key, (s) => s.doneS)];
      console.log(`| ${c.label} | ${mib(images.get(c.tag)!.totalBytes)} | ${r.toFixed(2)} | ${f.toFixed(2)} | ${d.toFixed(2)} | ` +
        `${(r / full((s) => s.readyS)).toFixed(2)}x | ${(f / full((s) => s.firstS)).toFixed(2)}x | ${(d / full((s) => s.doneS)).toFixed(2)}x |`);
    }
    console.log('\nBytes the registry sent (MiB), medians; "of the layer" is the layer blob, the rest is manifests, config, SOCI index and zTOC:');
    console.log('| case | at rootfs ready | of the layer | at first output | of the layer | at command done | of the layer | requests by done | first output vs full pull | done vs full pull | runs with a blob fetched twice |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of CASES) {
      const f = m(c.key, (s) => s.first.bytes);
      const d = m(c.key, (s) => s.done.bytes);
      console.log(`| ${c.label} | ${mib(m(c.key, (s) => s.ready.bytes))} | ${mib(m(c.key, (s) => s.ready.layerBytes))} | ${mib(f)} | ${mib(m(c.key, (s) => s.first.layerBytes))} | ` +
        `${mib(d)} | ${mib(m(c.key, (s) => s.done.layerBytes))} | ${m(c.key, (s) => s.done.requests)} | ` +
        `${((100 * f) / full((s) => s.first.bytes)).toFixed(2)}% | ${((100 * d) / full((s) => s.done.bytes)).toFixed(2)}% | ` +
        `${samples.get(c.key)!.filter((s) => s.blobTwice).length} of ${RUNS} |`);
    }
    console.log(`\nload average at the start of each run ${loads.slice(1).map((l) => l.toFixed(2)).join(', ')}; at the end ${loadavg()[0]!.toFixed(2)}`);
  } finally {
    await proxy?.close();
    await live.registry?.stop();
    live.registry = undefined;
    await ws.close();
  }
}

runMain(main);
