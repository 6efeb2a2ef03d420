// Our formats, mounted for real. Two images go to a registry: the Debian base image
// (fixtures/baseImage.sh, one large layer) and a three-layer image with whiteouts, opaque folders
// and hard links (helpers/multiLayerImage.ts). Each is made lazy four ways: `lazyimg convert
// --format estargz`, ctr-remote's `images convert --estargz` (Debian's containerd 1.6), `lazyimg
// index` and `soci convert`, and each result is pulled with `lazyimg pull --require-lazy --json`
// through the matching daemon behind containerd v2 (fixtures/snapshotters.ts, daemons started by
// our own control code), through a proxy that counts the bytes fetched. The report must call every
// layer remote-mounted, as predicted, and the independent signs must agree: the daemon's log, one
// new FUSE mount per layer under its root, containerd's remote label, a sliver of the image fetched
// at mount. Then every layer's mount, read through FUSE, must equal that layer's source tar file for
// file. soci convert's output is also byte for byte ours. An unconverted image pulled through the
// stargz daemon shows that a fallback to a full download would be seen.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { OciLayoutStore } from '../../src/core/oci/index.js';
import { renderPull, type PullReport } from '../../src/core/snapshotter/index.js';
import { writeMultiLayerImage } from '../helpers/multiLayerImage.js';
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
const MANIFEST_TYPES = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
const REMOTE_LABEL = 'containerd.io/snapshot/remote';

/**
 * The xattr that marks an opaque folder through either daemon's FUSE layer: both choose
 * trusted.overlay.opaque, unless overlayfs needs its userxattr option on their root (rootless,
 * in a user namespace), when they choose user.overlay.opaque. These tests run as root.
 */
const OPAQUE_XATTR = 'trusted.overlay.opaque';

/** path -> [type, mode, uid, gid, mtime, link target or device, sha256, xattrs, a file's [link count, names]] (test/helpers/layertree.py) */
type Tree = Record<string, [string, number, number, number, number, string, string, Record<string, string>, [number, string[]] | []]>;

async function layerTree(mode: 'tar' | 'dir', target: string): Promise<Tree> {
  const python = requireTool('python3', 'apt-get install python3');
  const args = mode === 'tar' ? [LAYERTREE, mode, target, OPAQUE_XATTR] : [LAYERTREE, mode, target];
  const { stdout } = await run(python, args, { maxBuffer: 256 * 1024 * 1024 });
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

/** containerd's chain IDs, the keys of the layers' committed snapshots, from the diff IDs. */
function chainIdsOf(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : `sha256:${createHash('sha256').update(`${out.at(-1)!} ${d}`).digest('hex')}`);
  return out;
}

interface Descriptor { mediaType: string; digest: string; size: number; artifactType?: string; platform?: { os: string; architecture: string } }

/** What the daemon's log says about preparing the snapshot of `chainId` (its key ends with it; the next layer names it as parent). */
function prepared(daemon: SnapshotterDaemon, chainId: string): string[] {
  return daemon.log().split('\n')
    .filter((line) => line.includes('remote-snapshot-prepared'))
    .map((line) => JSON.parse(line) as Record<string, string>)
    .filter((entry) => entry.key?.endsWith(` ${chainId}`))
    .map((entry) => entry['remote-snapshot-prepared']!);
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** A source image: its OCI layout and tag, its repository, and how SOCI indexes it. */
interface Source {
  name: string;
  layout: string;
  tag: string;
  repo: string;
  /** Given to `lazyimg index` and `soci convert` alike. */
  sociArgs: string[];
}

/** One way of making an image lazy, the tag it pushes, and the daemon that mounts it. */
interface Way {
  name: string;
  tag: string;
  kind: DaemonKind;
  /** Pushes `source` made lazy to `<registry>/<repo>:<tag>`; returns what to report. */
  make(source: Source, target: string): Promise<string>;
}

describe('our formats, mounted for real: four ways, two images, every layer a FUSE remote mount equal to its source', { timeout: 600_000 }, () => {
  let registry: RegistryFixture;
  let proxy: FakeServer;
  let stack: SnapshotterStack;
  let work: string;
  const fetched = new Map<string, number>();
  const total = (): number => [...fetched.values()].reduce((a, b) => a + b, 0);
  /** The layer digests each daemon of the shared stack has mounted (or been offered). */
  const seen: Record<DaemonKind, Set<string>> = { stargz: new Set(), soci: new Set() };
  const trees = new Map<string, Promise<Tree>>();

  const debian: Source = { name: 'Debian', layout: BASE, tag: 'bookworm', repo: 'lazy/debian', sociArgs: [] };
  // Its layers are under SOCI's 10 MiB default minimum: both indexers are told to index them all.
  const multi: Source = { name: 'multi-layer', layout: '', tag: 'multi', repo: 'lazy/multi', sociArgs: ['--min-layer-size', '0'] };

  /** The source layers' blobs in the layout, in order. */
  function sourceLayers(source: Source): string[] {
    const index = JSON.parse(readFileSync(join(source.layout, 'index.json'), 'utf8')) as { manifests: Array<Descriptor & { annotations?: Record<string, string> }> };
    const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === source.tag) ?? index.manifests[0]!;
    const blob = (digest: string): string => join(source.layout, 'blobs', 'sha256', digest.slice(7));
    return (JSON.parse(readFileSync(blob(entry.digest), 'utf8')) as { layers: Descriptor[] }).layers.map((l) => blob(l.digest));
  }

  /** Layer `i` of `source` as the daemons present it, computed once. */
  function sourceTree(source: Source, i: number): Promise<Tree> {
    const key = `${source.name}/${i}`;
    if (!trees.has(key)) trees.set(key, layerTree('tar', sourceLayers(source)[i]!));
    return trees.get(key)!;
  }

  async function get(repo: string, path: string): Promise<{ digest: string | null; doc: { manifests?: Descriptor[]; layers?: Descriptor[]; config?: Descriptor; rootfs?: { diff_ids: string[] } } }> {
    const res = await fetch(`http://${registry.host}/v2/${repo}/${path}`, { headers: { accept: MANIFEST_TYPES } });
    assert.equal(res.status, 200, `GET ${repo} ${path}`);
    return { digest: res.headers.get('docker-content-digest'), doc: (await res.json()) as never };
  }

  /** The linux/amd64 image under `tag`: its layers and their chain IDs. */
  async function imageOf(repo: string, tag: string): Promise<{ layers: Descriptor[]; chainIds: string[] }> {
    let manifest = (await get(repo, `manifests/${tag}`)).doc;
    if (manifest.manifests) {
      // A SOCI-enabled image: an index of the image manifest and the SOCI index manifest.
      const image = manifest.manifests.find((m) => !m.artifactType && m.platform?.os === 'linux' && m.platform.architecture === 'amd64')!;
      manifest = (await get(repo, `manifests/${image.digest}`)).doc;
    }
    const config = (await get(repo, `blobs/${manifest.config!.digest}`)).doc;
    return { layers: manifest.layers!, chainIds: chainIdsOf(config.rootfs!.diff_ids) };
  }

  /** `lazyimg pull --require-lazy --json` through the proxy, so that the bytes containerd and the daemon fetch are counted. */
  async function pull(on: SnapshotterStack, repo: string, tag: string, kind: DaemonKind): Promise<{ report: PullReport; code: number; stderr: string }> {
    const daemon = on.daemons[kind]!;
    const r = await runCli([
      '--insecure', proxy.host, 'pull', `${proxy.host}/${repo}:${tag}`, '--snapshotter', kind, '--containerd', on.address, '--namespace', on.namespace,
      '--log', daemon.logFile, '--daemon-root', daemon.root, '--metrics', daemon.metricsAddress, '--plain-http', '--require-lazy', '--json',
      '--ctr', requireCachedTool('containerd-v2.2.9/ctr'), '--ctr-remote', requireTool('ctr-remote', 'apt-get install stargz-snapshotter'),
    ]);
    return { report: JSON.parse(r.stdout) as PullReport, code: r.code, stderr: r.stderr };
  }

  before(async () => {
    if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh (.ci/run does)`);
    work = await mkdtemp(join(tmpdir(), 'lazyimg-lazypull-'));
    multi.layout = join(work, 'multi');
    await writeMultiLayerImage(await OciLayoutStore.open(multi.layout, { create: true }), multi.tag);
    registry = await startRegistry();
    proxy = await startRegistryProxy(registry.host, { onResponseBytes: (url, n) => fetched.set(url.pathname, (fetched.get(url.pathname) ?? 0) + n) });
    for (const source of [debian, multi]) await lazyimg('--insecure', registry.host, 'copy', `oci:${source.layout}:${source.tag}`, `${registry.host}/${source.repo}:src`);
    stack = await startSnapshotters();
  });
  after(async () => {
    await stack?.stop();
    await proxy?.close();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const ways: Way[] = [
    {
      name: 'eStargz from lazyimg convert', tag: 'esgz', kind: 'stargz',
      make: async (source, target) => {
        await lazyimg('--insecure', registry.host, 'convert', '--format', 'estargz', `${registry.host}/${source.repo}:src`, target);
        return '';
      },
    },
    {
      name: 'eStargz from ctr-remote (Debian containerd 1.6)', tag: 'ref-esgz', kind: 'stargz',
      make: async (source, target) => {
        const converter = await startContainerd();
        try {
          await converter.importLayout(source.layout, 'src');
          await converter.ctr('images', 'convert', '--estargz', '--oci', `src:${source.tag}`, 'src:esgz');
          await converter.ctr('images', 'push', '--plain-http', target, 'src:esgz');
        } finally {
          await converter.stop();
        }
        return '';
      },
    },
    {
      name: 'SOCI v2 from lazyimg index', tag: 'soci', kind: 'soci',
      make: async (source, target) => {
        await lazyimg('--insecure', registry.host, 'index', ...source.sociArgs, `${registry.host}/${source.repo}:src`, target);
        return '';
      },
    },
    {
      name: 'SOCI v2 from soci convert', tag: 'ref-soci', kind: 'soci',
      make: async (source, target) => {
        const out = join(work, `soci-${source.tag}`);
        await run(requireCachedTool('soci-v0.16.1/soci'), ['--root', join(work, 'soci-root'), 'convert', '--standalone', '--format', 'oci-dir', ...source.sociArgs, source.layout, out]);
        const theirs = (JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { manifests: Descriptor[] }).manifests[0]!.digest;
        await lazyimg('--insecure', registry.host, 'copy', `oci:${out}@${theirs}`, target);
        assert.equal((await get(source.repo, 'manifests/ref-soci')).digest, theirs, 'pushed as soci convert wrote it');
        // The strongest evidence: soci convert and lazyimg index write the same bytes.
        assert.equal((await get(source.repo, 'manifests/soci')).digest, theirs, 'soci convert wrote the very SOCI-enabled image lazyimg index wrote');
        return 'byte for byte the lazyimg index image; ';
      },
    },
  ];

  for (const source of [debian, multi]) {
    for (const way of ways) {
      it(`${source.name}: ${way.name}, through ${way.kind === 'stargz' ? 'containerd-stargz-grpc' : 'soci-snapshotter-grpc'}: lazyimg pull reports every layer remote-mounted; each mount equals its source layer`, async (t) => {
        const making = performance.now();
        const note = await way.make(source, `${registry.host}/${source.repo}:${way.tag}`);
        const makeMs = performance.now() - making;
        const { layers, chainIds } = await imageOf(source.repo, way.tag);
        // A layer a daemon of this containerd has had already would be found, not mounted anew:
        // such a way (soci convert's layers are lazyimg index's) gets a stack of its own.
        const fresh = layers.some((l) => seen[way.kind].has(l.digest));
        const on = fresh ? await startSnapshotters({ proxies: [way.kind] }) : stack;
        try {
          if (!fresh) for (const l of layers) seen[way.kind].add(l.digest);
          await lazyPull(t, on, source, way, layers, chainIds, `${note}made in ${seconds(makeMs)}${fresh ? '; on a fresh stack' : ''}`);
        } finally {
          if (fresh) await on.stop();
        }
      });
    }
  }

  /** Pulls `way.tag` through `way.kind`'s daemon of `on`; checks the report, every sign of laziness and every mounted layer. */
  async function lazyPull(t: { diagnostic(message: string): void }, on: SnapshotterStack, source: Source, way: Way, layers: Descriptor[], chainIds: string[], note: string): Promise<void> {
    const daemon = on.daemons[way.kind]!;
    const blobs = layers.map((l) => `/v2/${source.repo}/blobs/${l.digest}`);
    const mountedBefore = new Set(on.fuseMounts().map((m) => m.mountPoint));
    fetched.clear();
    const started = performance.now();
    const { report, code, stderr } = await pull(on, source.repo, way.tag, way.kind);
    const pullMs = performance.now() - started;
    const atMount = blobs.map((b) => fetched.get(b) ?? 0);
    const layerBytes = atMount.reduce((a, b) => a + b, 0);
    const imageBytes = layers.reduce((a, l) => a + l.size, 0);
    const otherAtMount = total() - layerBytes;

    // The report: every layer remote-mounted, as predicted, each on a FUSE mount of its own.
    assert.equal(code, 0, `--require-lazy: ${stderr}\n${renderPull(report).join('\n')}`);
    assert.equal(report.failed, undefined);
    assert.equal(report.layers.length, layers.length);
    for (const [i, l] of report.layers.entries()) {
      assert.equal(l.digest, layers[i]!.digest);
      assert.equal(l.chainId, chainIds[i]);
      assert.equal(l.outcome, 'remote', `layer ${l.index}`);
      assert.equal(l.prepared, true, `layer ${l.index}: the daemon logged a remote snapshot`);
      assert.equal(l.predicted.lazy, true, `layer ${l.index}: ${l.predicted.text}`);
      assert.equal(l.mismatch, undefined);
      assert.equal(l.remoteLabel, true);
      assert.ok(l.mountPoint?.startsWith(`${daemon.root}/`), `layer ${l.index} mounted under the daemon root: ${l.mountPoint}`);
    }

    // The independent signs: the daemon's own log, the mount table, containerd's snapshots, the proxy.
    const mounts = on.fuseMounts().filter((m) => !mountedBefore.has(m.mountPoint)).map((m) => m.mountPoint);
    assert.deepEqual([...mounts].sort(), report.layers.map((l) => l.mountPoint!).sort(), 'one new FUSE mount per layer, the ones the report names');
    for (const chainId of chainIds) {
      assert.deepEqual(prepared(daemon, chainId), ['true'], `${way.kind} logs one remote snapshot prepared for ${chainId}:\n${daemon.log().slice(-3000)}`);
      const labels = await on.snapshotLabels(way.kind, chainId);
      assert.ok(REMOTE_LABEL in labels, `containerd marks the snapshot remote: ${JSON.stringify(labels)}`);
    }
    // eStargz fetches its footer and TOC from the end of each layer; SOCI only probes the layers.
    // Its zTOCs are blobs of their own, counted with the rest: containerd's transfer service fetches
    // them with the SOCI index manifest, and soci-snapshotter once more when it asks before
    // containerd has stored them (a race: seen both ways).
    assert.ok(layerBytes < imageBytes / 50, `${layerBytes} of ${imageBytes} layer bytes fetched at mount`);
    assert.ok(total() < imageBytes / 10, `${total()} bytes fetched in all at mount, for a ${imageBytes}-byte image`);

    // Reading every file through FUSE fetches the rest; each layer's tree must be its source's.
    const reading = performance.now();
    const mounted = await Promise.all(report.layers.map((l) => layerTree('dir', l.mountPoint!)));
    const readMs = performance.now() - reading;
    let paths = 0;
    for (const [i, tree] of mounted.entries()) {
      const diff = differences(tree, await sourceTree(source, i));
      assert.deepEqual(diff.slice(0, 20), [], `layer ${i + 1}: ${diff.length} paths differ`);
      paths += Object.keys(tree).length;
    }
    t.diagnostic(`${source.name} ${way.tag}: ${note}; ${layers.length} layer(s), ${imageBytes} bytes; at mount ${layerBytes} bytes of the layers `
      + `(${((100 * layerBytes) / imageBytes).toFixed(3)}%: ${atMount.join(' + ')}; daemon metrics ${report.layers.map((l) => l.fetched).join(' + ')}) `
      + `+ ${otherAtMount} bytes else (manifests, config${way.kind === 'soci' ? ', SOCI index, zTOCs' : ''}); lazyimg pull ${seconds(pullMs)}; `
      + `read ${paths} paths in ${seconds(readMs)}, ${kb(blobs.reduce((a, b) => a + (fetched.get(b) ?? 0), 0))} of the layers fetched by then`);
  }

  it('Debian unconverted, through containerd-stargz-grpc: no remote snapshot, containerd downloads the layer; the report says so and --require-lazy fails', async (t) => {
    const { layers, chainIds } = await imageOf(debian.repo, 'src');
    const mountedBefore = stack.fuseMounts().length;
    fetched.clear();
    const { report, code } = await pull(stack, debian.repo, 'src', 'stargz');
    assert.notEqual(code, 0, '--require-lazy');
    assert.equal(report.failed, undefined);
    assert.equal(report.layers[0]!.outcome, 'downloaded');
    assert.equal(report.layers[0]!.mismatch, undefined, 'as predicted: no eStargz annotation');
    const states = prepared(stack.daemons.stargz!, chainIds[0]!);
    assert.ok(states.length > 0 && states.every((s) => s === 'false'), `the daemon says it prepared no remote snapshot: ${JSON.stringify(states)}`);
    assert.equal(stack.fuseMounts().length, mountedBefore, 'no new FUSE mount');
    const layerBytes = fetched.get(`/v2/${debian.repo}/blobs/${layers[0]!.digest}`) ?? 0;
    assert.ok(layerBytes >= layers[0]!.size, `the whole layer was downloaded: ${layerBytes} of ${layers[0]!.size} bytes`);
    t.diagnostic(`Debian src via stargz: ${layerBytes} bytes of the ${layers[0]!.size}-byte layer downloaded`);
  });
});
