// `lazyimg optimize` against the reference, `ctr-remote images optimize` (Debian's stargz-snapshotter
// 0.12 on Debian's containerd 1.6), on a real two-layer image: the Debian base (fixtures/
// baseImage.sh) plus a layer built by buildah with a start script, a changed os-release, a deleted
// file, a deleted folder and an opaque one. Its entrypoint is a shell script that reads files of
// both layers and starts Python. Both tools run it under runc and record the files it reads; the
// sets must be equal. Our unpacked root must equal umoci's, our optimized image must pass verify
// and the Go eStargz checker, with each recorded file before `.prefetch.landmark` in the layer that
// provides it, and `convert --prioritize-file` with the profile must give the same layers. Pulled
// with `ctr-remote images rpull` through containerd-stargz-grpc (started by our control code, with
// prefetch on), its recorded files must be prefetched: reading them makes no on-demand fetch.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { TOC_DIGEST_ANNOTATION } from '../../src/core/estargz/index.js';
import { OciLayoutStore, type ImageIndex, type ImageManifest } from '../../src/core/oci/index.js';
import { parsePrometheusText, scrapeMetrics, type MetricFamily, type Sample } from '../../src/core/snapshotter/index.js';
import { unpackLayers, type StartupProfile } from '../../src/core/optimize/index.js';
import { requireTool } from '../helpers/tools.js';
import { runCli } from './fixtures/cli.js';
import { startRegistry } from './fixtures/registry.js';
import { startSnapshotters } from './fixtures/snapshotters.js';
import { startContainerd, type Containerd } from './fixtures/containerd.js';
import { buildOptimizeImage } from './fixtures/optimizeImage.js';

const run = promisify(execFile);
const LAYERTREE = resolve(__dirname, '..', '..', '..', 'test', 'helpers', 'layertree.py');
const CHECKER_SOURCE = resolve(__dirname, '..', '..', '..', 'test', 'helpers', 'estargz-check');

/**
 * Files only one recorder can see, and why. fanotify (ctr-remote) reports every open of a file on
 * the container's root mount by any process, runc's own included; strace (ours) reports the
 * workload's system calls, plus the interpreters the kernel loads for what it executes, which we
 * read from the files (ELF PT_INTERP, `#!`). On this workload neither list has an entry: runc
 * opens nothing of the image after the container starts, and the kernel-loaded files
 * (/app/start.sh's /bin/sh, its ld-linux) are in both.
 */
const ONLY_CTR_REMOTE = new Map<string, string>();
const ONLY_OURS = new Map<string, string>();

type Tree = Record<string, [string, number, number, number, number, string, string, Record<string, string>, [number, string[]] | []]>;

async function layerTree(dir: string): Promise<Tree> {
  const { stdout } = await run(requireTool('python3', 'apt-get install python3'), [LAYERTREE, 'dir', dir], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(stdout) as Tree;
}

/** A layer blob's tar entries in blob order, read by Python's tarfile (multi-member gzip as one stream). */
async function blobOrder(blob: string): Promise<Array<[string, string]>> {
  const script = 'import json,sys,tarfile\nprint(json.dumps([[m.name, "reg" if m.isreg() else "dir" if m.isdir() else "other"] for m in tarfile.open(sys.argv[1], "r:gz")]))';
  const { stdout } = await run('python3', ['-c', script, blob], { maxBuffer: 64 * 1024 * 1024 });
  return (JSON.parse(stdout) as Array<[string, string]>).map(([name, type]) => [name.replace(/^(\.\/)+|^\/+/, '').replace(/\/$/, ''), type]);
}

async function lazyimg(...args: string[]): Promise<string> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `lazyimg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function manifestOf(layout: string, tag: string): Promise<ImageManifest> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  assert.ok(entry, `${tag} in ${layout}`);
  return JSON.parse(await readFile(join(layout, 'blobs', 'sha256', entry.digest.slice(7)), 'utf8')) as ImageManifest;
}

describe('lazyimg optimize against ctr-remote images optimize', { timeout: 1_200_000 }, () => {
  let dir: string;
  let source: string;
  let containerd: Containerd;
  let checker: string;

  before(async () => {
    for (const tool of ['runc', 'strace']) requireTool(tool, `apt-get install ${tool}`);
    requireTool('go', 'install Go (the reference checker is built from the estargz module)');
    dir = join(tmpdir(), `lazyimg-optimize-test-${randomBytes(6).toString('hex')}`);
    source = await buildOptimizeImage(dir);
    checker = join(dir, 'estargz-check');
    await run('go', ['build', '-o', checker, '.'], { cwd: CHECKER_SOURCE });
    containerd = await startContainerd();
    await containerd.importLayout(source, 'src');
  });
  after(async () => {
    await containerd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('unpacks the image as umoci does (whiteouts, opaque folders, owners, modes, times, contents)', async (t) => {
    const store = await OciLayoutStore.open(source);
    const manifest = await manifestOf(source, 'src');
    assert.equal(manifest.layers.length, 2);
    const ours = await unpackLayers(store, manifest.layers, join(dir, 'ours-root'), 'src');
    await run(requireTool('umoci', 'apt-get install umoci'), ['unpack', '--image', `${source}:src`, join(dir, 'umoci')], { maxBuffer: 64 * 1024 * 1024 });
    const [mine, theirs] = await Promise.all([layerTree(ours.dir), layerTree(join(dir, 'umoci', 'rootfs'))]);
    // What we leave to the runtime or cannot set from Node, named: device files (the container gets
    // the runtime's /dev) and extended attributes (umoci sets them; Node has no call for it).
    const devices = Object.keys(theirs).filter((p) => theirs[p]![0] === 'char' || theirs[p]![0] === 'block');
    assert.equal(devices.length, ours.skipped, 'every device file umoci made is one we skipped');
    for (const p of devices) delete theirs[p];
    const xattrs = Object.keys(theirs).filter((p) => Object.keys(theirs[p]![7]).length > 0);
    for (const p of xattrs) theirs[p]![7] = {};
    t.diagnostic(`${Object.keys(mine).length} paths; umoci also made ${devices.length} devices and set xattrs on ${xattrs.length} paths (${xattrs.join(', ')})`);
    const paths = [...new Set([...Object.keys(mine), ...Object.keys(theirs)])];
    const differ = paths.filter((p) => JSON.stringify(mine[p]) !== JSON.stringify(theirs[p]));
    assert.deepEqual(differ.slice(0, 20).map((p) => `${p}: ours ${JSON.stringify(mine[p])}, umoci ${JSON.stringify(theirs[p])}`), []);
    for (const gone of ['etc/issue.net', 'usr/share/doc/bash', 'etc/apt/apt.conf.d']) assert.equal(mine[gone], undefined, gone);
    assert.equal(ours.provider('app/start.sh'), 2);
    assert.equal(ours.provider('usr/bin/dash'), 1);
    await rm(join(dir, 'ours-root'), { recursive: true, force: true });
  });

  describe('the same workload recorded by both', () => {
    let profile: StartupProfile;
    let theirs: string[];
    const out = (): string => join(dir, 'out');

    before(async () => {
      let started = Date.now();
      const stdout = await lazyimg('optimize', `oci:${source}:src`, `oci:${out()}:ours`, '--record-out', join(dir, 'profile.json'));
      const oursSeconds = (Date.now() - started) / 1000;
      profile = JSON.parse(await readFile(join(dir, 'profile.json'), 'utf8')) as StartupProfile;
      started = Date.now();
      await containerd.ctr('images', 'optimize', '--oci', '--record-out', join(dir, 'ctr-remote.record'), 'src:src', 'theirs:opt');
      const theirSeconds = (Date.now() - started) / 1000;
      const lines = (await readFile(join(dir, 'ctr-remote.record'), 'utf8')).split('\n').filter(Boolean);
      theirs = [...new Set(lines.map((l) => (JSON.parse(l) as { path: string }).path))];
      console.log(`optimize: ours ${oursSeconds.toFixed(1)} s, ctr-remote ${theirSeconds.toFixed(1)} s; recorded ${profile.files.length} files (${profile.files.reduce((n, f) => n + f.size, 0)} bytes), ctr-remote ${theirs.length}\n${stdout}`);
    });

    it('records the set ctr-remote records, give or take what only one recorder can see', () => {
      assert.equal(profile.run.exitCode, 0);
      assert.equal(profile.run.stopped, false);
      const ours = profile.files.map((f) => f.path);
      const onlyOurs = ours.filter((p) => !theirs.includes(p));
      const onlyTheirs = theirs.filter((p) => !ours.includes(p));
      assert.deepEqual(onlyOurs.filter((p) => !ONLY_OURS.has(p)), [], 'recorded by us only');
      assert.deepEqual(onlyTheirs.filter((p) => !ONLY_CTR_REMOTE.has(p)), [], 'recorded by ctr-remote only');
      // Both layers take part: the script and its data from the top, the shell and Python from the base.
      for (const [path, layer] of [['app/start.sh', 2], ['app/data.txt', 2], ['usr/lib/os-release', 2], ['usr/bin/dash', 1], ['usr/bin/python3.11', 1], ['usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 1]] as const) {
        assert.equal(profile.files.find((f) => f.path === path)?.layer, layer, path);
      }
      assert.deepEqual(profile.files.slice(0, 3).map((f) => [f.path, f.how]), [['app/start.sh', 'exec'], ['usr/bin/dash', 'interpreter'], ['usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'interpreter']]);
    });

    it('writes an image that verify and the Go eStargz checker accept, each recorded file before its layer\'s landmark', async () => {
      const report = JSON.parse(await lazyimg('verify', `oci:${out()}:ours`, '--json')) as { ok: boolean; layers: Array<{ lazy: { lazy: boolean } }> };
      assert.equal(report.ok, true);
      assert.ok(report.layers.every((l) => l.lazy.lazy));
      const manifest = await manifestOf(out(), 'ours');
      for (const [i, layer] of manifest.layers.entries()) {
        const blob = join(out(), 'blobs', 'sha256', layer.digest.slice(7));
        await run(checker, [blob, layer.annotations![TOC_DIGEST_ANNOTATION]!], { maxBuffer: 64 * 1024 * 1024 });
        const order = await blobOrder(blob);
        const landmark = order.findIndex(([name]) => name === '.prefetch.landmark');
        assert.ok(landmark > 0, `layer ${i + 1} has .prefetch.landmark after its files`);
        const first = order.slice(0, landmark).filter(([, type]) => type === 'reg').map(([name]) => name);
        assert.deepEqual(first, profile.files.filter((f) => f.layer === i + 1).map((f) => f.path), `layer ${i + 1}`);
        assert.ok(order.slice(0, landmark).every(([, type]) => type !== 'other'), 'only the files and their folders come first');
      }
    });

    it('is pulled lazily with the recorded files prefetched: reading them through the mount fetches nothing on demand', async (t) => {
      const registry = await startRegistry();
      const stack = await startSnapshotters({ proxies: ['stargz'], daemon: { prefetch: true } });
      try {
        const ref = `${registry.host}/optimize/app:v1`;
        await lazyimg('copy', `oci:${out()}:ours`, ref);
        await stack.pull(ref, 'stargz');
        const daemon = stack.daemons.stargz!;
        const manifest = await manifestOf(out(), 'ours');
        // What each layer's TOC puts before its landmark is what the daemon prefetches at mount.
        const landmarks = new Map<string, number>();
        for (const [i, layer] of manifest.layers.entries()) {
          const toc = JSON.parse(await lazyimg('toc', `oci:${out()}:ours`, '--layer', String(i + 1), '--json')) as { entries: Array<{ name: string; offset?: number }> };
          landmarks.set(layer.digest, toc.entries.find((e) => e.name === '.prefetch.landmark')!.offset!);
        }
        const metrics = async (): Promise<Map<string, MetricFamily>> => parsePrometheusText(await scrapeMetrics({ address: daemon.metricsAddress }));
        const samples = (families: Map<string, MetricFamily>, name: string): Sample[] => families.get(name)?.samples ?? [];
        // The prefetch runs after the mount; its last step (caching what it fetched) ends with a prefetch_total line per layer.
        const done = (): number => manifest.layers.filter((l) => daemon.log().split('\n').some((line) => line.includes('"prefetch_total"') && line.includes(l.digest))).length;
        for (const deadline = Date.now() + 60_000; done() < manifest.layers.length; await sleep(200)) {
          if (Date.now() > deadline) assert.fail(`no prefetch ended for every layer within 60 s:\n${daemon.log().slice(-3000)}`);
        }
        const families = await metrics();
        const prefetched = new Map(samples(families, 'stargz_fs_layer_prefetch_size_bytes').map((s) => [s.labels.digest!, { bytes: s.value, mount: s.labels.mountpoint! }]));
        for (const layer of manifest.layers) assert.equal(prefetched.get(layer.digest)?.bytes, landmarks.get(layer.digest), `layer ${layer.digest}: prefetched up to its landmark`);
        const onDemand = (f: Map<string, MetricFamily>): number => samples(f, 'stargz_fs_operation_count').filter((s) => s.labels.operation_type === 'on_demand_remote_registry_fetch_count').reduce((n, s) => n + s.value, 0);
        const before = onDemand(families);
        // Each recorded file, through the mount of the layer that provides it.
        const mountOf = (layer: number): string => prefetched.get(manifest.layers[layer - 1]!.digest)!.mount;
        let read = 0;
        for (const f of profile.files) read += (await readFile(join(mountOf(f.layer), f.path))).length;
        assert.equal(read, profile.files.reduce((n, f) => n + f.size, 0));
        assert.equal(onDemand(await metrics()), before, 'no on-demand fetch for a recorded file');
        // A file nobody recorded is fetched on demand: the counter does see reads.
        await readFile(join(mountOf(1), 'usr/bin/perl'));
        const after = onDemand(await metrics());
        assert.ok(after > before, `reading usr/bin/perl fetched on demand (${before} -> ${after})`);
        t.diagnostic(`prefetched ${[...prefetched.values()].map((p) => p.bytes).join(' + ')} bytes; ${profile.files.length} recorded files read (${read} bytes) with ${before} on-demand fetches before and after; usr/bin/perl then took ${after - before}`);
      } finally {
        await stack.stop();
        await registry.stop();
      }
    });

    it('gives convert --prioritize-file the profile, which puts the same files first in the same layers', async () => {
      await lazyimg('convert', '--format', 'estargz', `oci:${source}:src`, `oci:${out()}:converted`, '--prioritize-file', join(dir, 'profile.json'));
      const [optimized, converted] = await Promise.all([manifestOf(out(), 'ours'), manifestOf(out(), 'converted')]);
      assert.deepEqual(converted.layers.map((l) => l.digest), optimized.layers.map((l) => l.digest));
    });
  });
});
