// What the lazy pull benchmarks share: an image pulled through a proxy that counts the bytes the
// registry sends, into a fresh containerd v2.2.9 and daemon (test/integration/fixtures), then a
// snapshot of it mounted as a bundle's rootfs and run by runc, timed from the start of the pull to
// the rootfs being ready (the pull command returns), the command's first stdout byte and its exit.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parsePrometheusText, scrapeMetrics } from '../../src/core/snapshotter/index.js';
import { requireTool } from '../../test/helpers/tools.js';
import type { FakeServer } from '../../test/integration/fixtures/fakeServer.js';
import { startRegistryProxy } from '../../test/integration/fixtures/registryProxy.js';
import { startSnapshotters, type DaemonKind, type SnapshotterStack } from '../../test/integration/fixtures/snapshotters.js';
import type { DaemonOptions } from '../../test/integration/fixtures/snapshotterDaemon.js';
import { run } from './measure.js';

/** The Debian base image of the integration tests (test/integration/fixtures/baseImage.sh), which the pull benches use. */
export const BASE = join(process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images'), 'base-bookworm', 'layout');

const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

export interface PullCase {
  key: string;
  label: string;
  tag: string;
  snapshotter: 'overlayfs' | DaemonKind;
}

/** What the proxy has sent so far for the case being measured. */
export interface Fetched {
  bytes: number;
  /** Of which the image's layer blobs (an eStargz layer holds its TOC; a zTOC is a blob of its own). */
  layerBytes: number;
  requests: number;
}

export interface PullSample {
  readyS: number;
  firstS: number;
  doneS: number;
  ready: Fetched;
  first: Fetched;
  done: Fetched;
  /** Whether some blob came more than once (soci's zTOC, at times: see BENCHMARKS.md). */
  blobTwice: boolean;
  /** stargz: the registry fetches its metrics count as on demand (a read that found its chunk neither prefetched nor cached), by the command's exit. */
  onDemandFetches?: number;
}

export interface ImageInfo {
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

/** Walks the image `repo:tag` straight from the registry at `host` (not through the proxy). */
export async function describeImage(host: string, repo: string, tag: string): Promise<ImageInfo> {
  const get = async (path: string): Promise<{ doc: Document; digest: string; size: number }> => {
    const res = await fetch(`http://${host}/v2/${repo}/${path}`, { headers: { accept: ACCEPT } });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { doc: JSON.parse(body.toString()) as Document, digest: res.headers.get('docker-content-digest') ?? '', size: body.length };
  };
  const top = await get(`manifests/${tag}`);
  let totalBytes = top.size;
  const blobs = new Map<string, number>();
  const addBlobs = (doc: Document): void => {
    for (const b of [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) blobs.set(`/v2/${repo}/blobs/${b.digest}`, b.size);
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
export async function seconds(command: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const start = performance.now();
  await run(command, args, env);
  return (performance.now() - start) / 1000;
}

export const mib = (n: number): string => (n / 2 ** 20).toFixed(2);

/**
 * The cases of run `i` in the order to measure them: rotated from run to run and reversed every
 * other run, so that load, and what the case before leaves behind, fall on all alike.
 */
export function runOrder<T>(cases: T[], i: number): T[] {
  return cases.map((_c, j) => cases[(i + (i % 2 === 0 ? j : cases.length - 1 - j)) % cases.length]!);
}

export interface PullRunOptions {
  /** The benchmark's scratch folder: the bundle and runc's state go there. */
  dir: string;
  /** The registry, as `host:port`; pulls go through a counting proxy in front of it. */
  registryHost: string;
  repo: string;
  /** The container's process. */
  command: string[];
  /** Throws when the command's stdout is not what the image should print. */
  check(stdout: string): void;
  /** What the daemons' configs add to the tests' (stargz's prefetch). */
  daemon?: DaemonOptions;
}

export interface PullRunner {
  /** One fresh stack, one pull of `c` and one container run; the stack is stopped before this resolves. */
  measure(c: PullCase, image: ImageInfo, runIndex: number): Promise<PullSample>;
  close(): Promise<void>;
}

/** A counting proxy in front of the registry and a runc bundle; a container or mount left by an interrupted run is undone at exit. */
export async function startPullRunner(options: PullRunOptions): Promise<PullRunner> {
  const bin = {
    runc: requireTool('runc', 'apt-get install runc'),
    mount: requireTool('mount', 'apt-get install mount'),
    umount: requireTool('umount', 'apt-get install mount'),
  };
  const { dir, repo } = options;
  const runcRoot = join(dir, 'runc');
  const bundle = join(dir, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  const live: { container?: string; rootfs?: boolean } = {};
  const emergency = (): void => {
    if (live.container) spawnSync(bin.runc, ['--root', runcRoot, 'delete', '--force', live.container]);
    if (live.rootfs) spawnSync(bin.umount, ['-l', rootfs]);
  };
  // First among the exit handlers: the rootfs must be unmounted before the scratch folder is removed.
  process.prependOnceListener('exit', emergency);

  // The proxy counts what the registry sends for the case being measured.
  let counting: Fetched = { bytes: 0, layerBytes: 0, requests: 0 };
  let layerPaths = new Set<string>();
  const byPath = new Map<string, number>();
  const proxy: FakeServer = await startRegistryProxy(options.registryHost, {
    headers: () => void counting.requests++, // once per response
    onResponseBytes: (url, n) => {
      counting.bytes += n;
      if (layerPaths.has(url.pathname)) counting.layerBytes += n;
      byPath.set(url.pathname, (byPath.get(url.pathname) ?? 0) + n);
    },
  });

  // One bundle whose rootfs each case's snapshot is mounted on; runc keeps its state in the folder.
  await mkdir(rootfs, { recursive: true });
  await run(bin.runc, ['spec', '--bundle', bundle]);
  const spec = JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')) as { process: { args: string[]; terminal: boolean }; root: { readonly: boolean }; hostname?: string };
  spec.process.args = options.command;
  spec.process.terminal = false;
  spec.root.readonly = false;
  spec.hostname = 'lazyimg-bench';
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));

  /** runc runs the bundle; resolves at exit with the moments of its first stdout byte and its exit. */
  const runContainer = (id: string, start: number): Promise<{ firstS: number; first: Fetched; doneS: number; stdout: string }> => new Promise((done, fail) => {
    const child = spawn(bin.runc, ['--root', runcRoot, 'run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
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

  const measure = async (c: PullCase, image: ImageInfo, runIndex: number): Promise<PullSample> => {
    const id = `lazyimg-bench-${c.key}-${runIndex}`;
    const stack: SnapshotterStack = await startSnapshotters({ proxies: c.snapshotter === 'overlayfs' ? [] : [c.snapshotter], daemon: options.daemon });
    try {
      const ref = `${proxy.host}/${repo}:${c.tag}`;
      layerPaths = new Set(image.layers.map((d) => `/v2/${repo}/blobs/${d}`));
      counting = { bytes: 0, layerBytes: 0, requests: 0 };
      byPath.clear();
      const start = performance.now();
      // Without proxy plugins containerd's transfer service unpacks into its default, overlayfs.
      if (c.snapshotter === 'overlayfs') await stack.ctr('images', 'pull', '--plain-http', ref);
      else await stack.pull(ref, c.snapshotter);
      const readyS = (performance.now() - start) / 1000;
      const ready = { ...counting };
      const mounts = JSON.parse(await stack.ctr('snapshots', '--snapshotter', c.snapshotter, 'prepare', '--mounts', id, image.chainId)) as Array<{ Type: string; Source: string; Options: string[] }>;
      live.rootfs = true;
      for (const m of mounts) {
        await run(bin.mount, [...(m.Type === 'bind' ? [] : ['-t', m.Type]), '-o', m.Options.join(','), m.Source, rootfs]);
      }
      live.container = id;
      const { firstS, first, doneS, stdout } = await runContainer(id, start);
      const done = { ...counting };
      live.container = undefined;
      const metrics = c.snapshotter === 'stargz' ? parsePrometheusText(await scrapeMetrics({ address: stack.daemons.stargz!.metricsAddress })) : undefined;
      const onDemandFetches = metrics?.get('stargz_fs_operation_count')?.samples
        .filter((x) => x.labels.operation_type === 'on_demand_remote_registry_fetch_count').reduce((n, x) => n + x.value, 0);
      try {
        options.check(stdout);
      } catch (e) {
        throw new Error(`${c.label}: ${(e as Error).message}`);
      }
      if (c.snapshotter !== 'overlayfs') {
        // A silent fallback to a full download would be no lazy pull at all.
        const labels = await stack.snapshotLabels(c.snapshotter, image.chainId);
        if (!('containerd.io/snapshot/remote' in labels)) throw new Error(`${c.label}: the snapshot is not remote: ${JSON.stringify(labels)}`);
      }
      const blobTwice = [...image.blobs].some(([path, size]) => (byPath.get(path) ?? 0) > size);
      return { readyS, firstS, doneS, ready, first, done, blobTwice, onDemandFetches };
    } finally {
      try {
        if (live.container) {
          await run(bin.runc, ['--root', runcRoot, 'delete', '--force', id]).catch(() => '');
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

  return {
    measure,
    close: async () => {
      await proxy.close();
      process.off('exit', emergency);
    },
  };
}
