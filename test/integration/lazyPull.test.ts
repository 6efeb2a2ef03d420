// Images prepared by our tools really pull lazily through the real snapshotters. The Debian base
// image (fixtures/baseImage.sh) goes to a registry, is made lazy by `lazyimg convert --format
// estargz` and by `lazyimg index` (SOCI v2), and each is pulled through the matching daemon behind
// containerd v2 (fixtures/snapshotters.ts), through a proxy that counts the bytes fetched. The
// pull must be lazy by every sign the snapshotters give (their log, one FUSE mount per layer,
// containerd's remote label, a sliver of the layer fetched), and the mounted layer, read through
// FUSE, must equal the source layer's tar file for file. An unconverted image pulled through the
// stargz daemon shows that a fallback to a full download would be seen. The reference tools' output
// goes the same way: ctr-remote's eStargz through a fresh stack; soci convert's is byte for byte ours.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { requireCachedTool, requireTool } from '../helpers/tools.js';
import { runCli } from './fixtures/cli.js';
import { startContainerd } from './fixtures/containerd.js';
import type { FakeServer } from './fixtures/fakeServer.js';
import { startRegistry, type RegistryFixture } from './fixtures/registry.js';
import { startRegistryProxy } from './fixtures/registryProxy.js';
import { startSnapshotters, type DaemonKind, type SnapshotterDaemon, type SnapshotterStack } from './fixtures/snapshotters.js';

const run = promisify(execFile);
const BASE = join(process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images'), 'base-bookworm', 'layout');
const LAYERTREE = join(__dirname, '..', '..', '..', 'test', 'helpers', 'layertree.py');
const REPO = 'lazy/debian';

/** path -> [type, mode, uid, gid, mtime, link target or device, sha256, xattrs] (test/helpers/layertree.py) */
type Tree = Record<string, [string, number, number, number, number, string, string, Record<string, string>]>;

async function layerTree(mode: 'tar' | 'dir', target: string): Promise<Tree> {
  const python = requireTool('python3', 'apt-get install python3');
  const { stdout } = await run(python, [LAYERTREE, mode, target], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout) as Tree;
}

/** Every path that differs, missing or extra, described for the failure message. */
function differences(ours: Tree, theirs: Tree): string[] {
  const out: string[] = [];
  for (const [path, want] of Object.entries(theirs)) {
    const got = ours[path];
    if (!got) out.push(`missing through FUSE: ${path} ${JSON.stringify(want)}`);
    else if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`${path}: FUSE ${JSON.stringify(got)}, tar ${JSON.stringify(want)}`);
  }
  for (const path of Object.keys(ours)) if (!(path in theirs)) out.push(`only through FUSE: ${path} ${JSON.stringify(ours[path])}`);
  return out;
}

async function lazyimg(...args: string[]): Promise<string> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `lazyimg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface Descriptor { mediaType: string; digest: string; size: number; artifactType?: string; platform?: { os: string; architecture: string } }

/** The one layer of the linux/amd64 image under `tag`, and its diff ID (the snapshot's chain ID). */
async function layerOf(host: string, tag: string): Promise<{ layer: Descriptor; diffId: string }> {
  const get = async (path: string): Promise<{ mediaType?: string; manifests?: Descriptor[]; layers?: Descriptor[]; config?: Descriptor; rootfs?: { diff_ids: string[] } }> => {
    const res = await fetch(`http://${host}/v2/${REPO}/${path}`, {
      headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    assert.equal(res.status, 200, `GET ${path}`);
    return (await res.json()) as never;
  };
  let manifest = await get(`manifests/${tag}`);
  if (manifest.manifests) {
    // A SOCI-enabled image: an index of the image manifest and the SOCI index manifest.
    const image = manifest.manifests.find((m) => !m.artifactType && m.platform?.os === 'linux' && m.platform.architecture === 'amd64')!;
    manifest = await get(`manifests/${image.digest}`);
  }
  assert.equal(manifest.layers?.length, 1, `${tag} has one layer`);
  const config = await get(`blobs/${manifest.config!.digest}`);
  return { layer: manifest.layers[0]!, diffId: config.rootfs!.diff_ids[0]! };
}

/** The daemon's JSON log lines about preparing the snapshot of `chainId`. */
function prepared(daemon: SnapshotterDaemon, chainId: string): string[] {
  return daemon.log().split('\n')
    .filter((line) => line.includes('remote-snapshot-prepared') && line.includes(chainId))
    .map((line) => (JSON.parse(line) as Record<string, string>)['remote-snapshot-prepared']!);
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

describe('lazy pulls of our images through the real snapshotters', { timeout: 420_000 }, () => {
  let registry: RegistryFixture;
  let proxy: FakeServer;
  let stack: SnapshotterStack;
  let source: Tree;
  const fetched = new Map<string, number>();
  const total = (): number => [...fetched.values()].reduce((a, b) => a + b, 0);

  before(async () => {
    if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh (.ci/run does)`);
    const index = JSON.parse(readFileSync(join(BASE, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    const manifest = JSON.parse(readFileSync(join(BASE, 'blobs', 'sha256', index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Descriptor[] };
    const sourceLayer = join(BASE, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7));

    registry = await startRegistry();
    proxy = await startRegistryProxy(registry.host, { onResponseBytes: (url, n) => fetched.set(url.pathname, (fetched.get(url.pathname) ?? 0) + n) });
    const repo = `${registry.host}/${REPO}`;
    await lazyimg('--insecure', registry.host, 'copy', `oci:${BASE}:bookworm`, `${repo}:src`);
    // Python reads the source tar while our converter runs: two processes for two cores.
    [source] = await Promise.all([
      layerTree('tar', sourceLayer),
      lazyimg('--insecure', registry.host, 'convert', '--format', 'estargz', `${repo}:src`, `${repo}:esgz`),
    ]);
    await lazyimg('--insecure', registry.host, 'index', `${repo}:src`, `${repo}:soci`);
    stack = await startSnapshotters();
  });
  after(async () => {
    await stack?.stop();
    await proxy?.close();
    await registry?.stop();
  });

  /** Pulls `tag` through `kind`'s daemon of `stack`, checks every sign of laziness and the mounted tree. */
  async function lazyPull(t: { diagnostic(message: string): void }, on: SnapshotterStack, tag: string, kind: DaemonKind): Promise<void> {
    const { layer, diffId } = await layerOf(registry.host, tag);
    const daemon = on.daemons[kind]!;
    const blob = `/v2/${REPO}/blobs/${layer.digest}`;
    const mountedBefore = new Set(on.fuseMounts().map((m) => m.mountPoint));
    fetched.clear();
    const started = performance.now();
    await on.pull(`${proxy.host}/${REPO}:${tag}`, kind);
    const pullMs = performance.now() - started;
    const layerAtMount = fetched.get(blob) ?? 0;
    const otherAtMount = total() - layerAtMount;

    // Every sign of a lazy pull the snapshotters give.
    assert.deepEqual(prepared(daemon, diffId), ['true'], `${kind} logs one remote snapshot prepared for ${diffId}:\n${daemon.log().slice(-3000)}`);
    const mounts = on.fuseMounts().filter((m) => !mountedBefore.has(m.mountPoint));
    assert.equal(mounts.length, 1, `one FUSE mount for the one layer: ${JSON.stringify(mounts)}`);
    assert.ok(mounts[0]!.mountPoint.startsWith(`${daemon.root}/`), `${mounts[0]!.mountPoint} is under ${daemon.root}`);
    const labels = await on.snapshotLabels(kind, diffId);
    assert.ok('containerd.io/snapshot/remote' in labels, `containerd marks the snapshot remote: ${JSON.stringify(labels)}`);
    // eStargz fetches its TOC from the end of the layer; SOCI only probes the layer (its zTOC is a blob of its own).
    assert.ok(layerAtMount < layer.size / 50, `${layerAtMount} of ${layer.size} layer bytes fetched at mount`);

    // Reading every file through FUSE fetches the rest; the tree must be the source layer's.
    const reading = performance.now();
    const mounted = await layerTree('dir', mounts[0]!.mountPoint);
    const readMs = performance.now() - reading;
    const diff = differences(mounted, source);
    assert.deepEqual(diff.slice(0, 20), [], `${diff.length} paths differ`);
    const files = Object.values(source).filter((e) => e[0] === 'reg').length;
    t.diagnostic(`${tag}: layer ${layer.size} bytes; at mount ${layerAtMount} bytes of the layer `
      + `(${((100 * layerAtMount) / layer.size).toFixed(3)}%) + ${otherAtMount} bytes else (manifests, config${kind === 'soci' ? ', SOCI index, zTOC' : ''}); `
      + `pull ${(pullMs / 1000).toFixed(1)} s; read ${Object.keys(mounted).length} paths (${files} files) in ${(readMs / 1000).toFixed(1)} s, `
      + `${kb(fetched.get(blob) ?? 0)} of the layer fetched by then`);
  }

  it('eStargz from lazyimg convert, through containerd-stargz-grpc: mounted lazily, and the mount equals the source layer', (t) => lazyPull(t, stack, 'esgz', 'stargz'));
  it('SOCI v2 from lazyimg index, through soci-snapshotter-grpc: mounted lazily, and the mount equals the source layer', (t) => lazyPull(t, stack, 'soci', 'soci'));

  it('the reference: eStargz from ctr-remote (Debian containerd 1.6), the same way through a fresh stack', async (t) => {
    const converter = await startContainerd();
    try {
      await converter.importLayout(BASE, 'src');
      await converter.ctr('images', 'convert', '--estargz', '--oci', 'src:bookworm', 'src:esgz');
      await converter.ctr('images', 'push', '--plain-http', `${registry.host}/${REPO}:ref-esgz`, 'src:esgz');
    } finally {
      await converter.stop();
    }
    // Its own containerd and daemon: this layer's snapshot must be made, not found.
    const fresh = await startSnapshotters({ proxies: ['stargz'] });
    try {
      await lazyPull(t, fresh, 'ref-esgz', 'stargz');
    } finally {
      await fresh.stop();
    }
  });

  it('the reference: soci convert writes the very SOCI-enabled image the SOCI case pulled', async () => {
    const soci = requireCachedTool('soci-v0.16.1/soci');
    const work = await mkdtemp(join(tmpdir(), 'lazyimg-lazypull-soci-'));
    try {
      await run(soci, ['--root', join(work, 'root'), 'convert', '--standalone', '--format', 'oci-dir', BASE, join(work, 'out')]);
      const theirs = (JSON.parse(readFileSync(join(work, 'out', 'index.json'), 'utf8')) as { manifests: Descriptor[] }).manifests[0]!.digest;
      const res = await fetch(`http://${registry.host}/v2/${REPO}/manifests/soci`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
      assert.equal(res.headers.get('docker-content-digest'), theirs, 'a pull of soci\'s output would pull the same bytes');
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('the unconverted image through containerd-stargz-grpc: no remote snapshot, containerd downloads the layer', async (t) => {
    const { layer, diffId } = await layerOf(registry.host, 'src');
    const mountedBefore = stack.fuseMounts().length;
    fetched.clear();
    await stack.pull(`${proxy.host}/${REPO}:src`, 'stargz');
    const states = prepared(stack.daemons.stargz!, diffId);
    assert.ok(states.length > 0 && states.every((s) => s === 'false'), `the daemon says it prepared no remote snapshot: ${JSON.stringify(states)}`);
    assert.equal(stack.fuseMounts().length, mountedBefore, 'no new FUSE mount');
    const layerBytes = fetched.get(`/v2/${REPO}/blobs/${layer.digest}`) ?? 0;
    assert.ok(layerBytes >= layer.size, `the whole layer was downloaded: ${layerBytes} of ${layer.size} bytes`);
    t.diagnostic(`src via stargz: ${layerBytes} bytes of the ${layer.size}-byte layer downloaded`);
  });
});
