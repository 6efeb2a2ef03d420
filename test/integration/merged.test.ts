// The merged root of a real image, against umoci as the oracle. buildah (overlay storage, so real
// `.wh.` whiteouts and `.wh..wh..opq` opaque folders) builds on the Debian base of
// fixtures/baseImage.sh three layers that delete files and a folder, replace a file with a folder
// and a folder with a file, make folders opaque, and add hard links and hostile symbolic links.
// The image made lazy by our convert (eStargz) and our indexer (SOCI, every layer) lists exactly
// what `umoci unpack` extracts, and reads 200 random files as extracted. Through a registry and a
// byte-counting proxy, opening costs exactly the TOCs or zTOCs, and reading a small file a chunk
// or one span.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { imageLaziness, resolveImage, Stores } from '../../src/core/image/index.js';
import { MergedTree, type MergedEntry } from '../../src/core/lazy/index.js';
import { MediaType, OciLayoutStore, parseReference, sha256, type ImageManifest, type ImageStore } from '../../src/core/oci/index.js';
import { requireTool } from '../helpers/tools.js';
import { runCli } from './fixtures/cli.js';
import type { FakeServer } from './fixtures/fakeServer.js';
import { startRegistry, type RegistryFixture } from './fixtures/registry.js';
import { startRegistryProxy } from './fixtures/registryProxy.js';

const run = promisify(execFile);
const BASE = join(process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images'), 'base-bookworm', 'layout');
const EVIL = 'evil\x1b[2Jname';

const dockerfile = (base: string): string => `FROM oci:${base}:bookworm
RUN rm -f /etc/issue.net /etc/debian_version && rm -rf /usr/share/doc/bash /usr/share/doc/tar && echo file > /usr/share/doc/tar
RUN rm -rf /etc/apt && mkdir /etc/apt && echo new > /etc/apt/sources.list && rm /etc/issue && mkdir /etc/issue && echo inside > /etc/issue/x && echo '/bin/zsh' >> /etc/shells
RUN mkdir -p /data/sub && echo shared > /data/a && ln /data/a /data/b && ln /data/a /data/sub/c && ln -s ../../../../etc/passwd /data/escape && ln -s loop2 /data/loop1 && ln -s /data/loop1 /data/loop2 && ln -s /usr/share/doc /data/docs && touch "/data/$(printf 'evil\\033[2Jname')"
`;

/** A line per path, as the container sees it: type, permission bits, size, link target. */
function describeEntry(e: Pick<MergedEntry, 'type' | 'mode' | 'size' | 'linkname'>): string {
  return `${e.type} ${(e.mode & 0o7777).toString(8)} ${e.type === 'reg' ? e.size : 0}${e.type === 'symlink' ? ` -> ${e.linkname}` : ''}`;
}

/** The unpacked root, read back with lstat. */
async function unpackedTree(rootfs: string): Promise<Map<string, string>> {
  const tree = new Map<string, string>();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const path = `${prefix}${name}`;
      const full = join(dir, name);
      const s = await lstat(full);
      const type = s.isFile() ? 'reg' : s.isDirectory() ? 'dir' : s.isSymbolicLink() ? 'symlink' : s.isCharacterDevice() ? 'char' : s.isBlockDevice() ? 'block' : 'fifo';
      tree.set(path, describeEntry({ type, mode: s.mode, size: s.size, linkname: type === 'symlink' ? await readlink(full) : '' }));
      if (type === 'dir') await walk(full, `${path}/`);
    }
  };
  await walk(rootfs, '');
  return tree;
}

/** The same number sequence every run, so a failing sample can be read again. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function lazyimg(...args: string[]): Promise<string> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `lazyimg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('the merged root of a real image', { timeout: 600_000 }, () => {
  let dir: string;
  let layout: OciLayoutStore;
  const rootfs = { esgz: '', 'src-soci': '' };
  const storage = (): string[] => ['--storage-driver', 'overlay', '--root', join(dir, 'storage'), '--runroot', join(dir, 'run')];
  const open = async (store: ImageStore, tag: string): Promise<MergedTree> => MergedTree.open(store, await imageLaziness(store, tag), `${store.name}:${tag}`);

  before(async () => {
    const buildah = requireTool('buildah', 'apt-get install buildah');
    const umoci = requireTool('umoci', 'apt-get install umoci');
    if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh (.ci/run does)`);
    // buildah reads `FROM oci:<path>` as an image name too: a lower-case path without dot-folders.
    dir = join(tmpdir(), `lazyimg-merged-${randomBytes(6).toString('hex')}`);
    await mkdir(join(dir, 'context'), { recursive: true });
    await symlink(BASE, join(dir, 'base'));
    await writeFile(join(dir, 'context', 'Dockerfile'), dockerfile(join(dir, 'base')));
    await run(buildah, [...storage(), 'bud', '--isolation', 'chroot', '--layers', '-t', 'merged:src', join(dir, 'context')], { maxBuffer: 64 * 1024 * 1024 });
    await run(buildah, [...storage(), 'push', 'merged:src', `oci:${join(dir, 'out')}:src`]);
    await run(buildah, [...storage(), 'rmi', '--all', '--force']);
    const out = `oci:${join(dir, 'out')}`;
    await lazyimg('convert', '--format', 'estargz', `${out}:src`, `${out}:esgz`);
    await lazyimg('index', `${out}:src`, '--min-layer-size', '0');
    layout = await OciLayoutStore.open(join(dir, 'out'));
    // The SOCI-enabled image has the source's layers: umoci unpacks the source for it.
    await Promise.all((['esgz', 'src'] as const).map((tag) => run(umoci, ['unpack', '--image', `${join(dir, 'out')}:${tag}`, join(dir, `bundle-${tag}`)], { maxBuffer: 64 * 1024 * 1024 })));
    rootfs.esgz = join(dir, 'bundle-esgz', 'rootfs');
    rootfs['src-soci'] = join(dir, 'bundle-src', 'rootfs');
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const tag of ['esgz', 'src-soci'] as const) {
    describe(tag, () => {
      let tree: MergedTree;
      before(async () => {
        tree = await open(layout, tag);
      });

      it('lists exactly what umoci unpacks: paths, types, modes, sizes, link targets', async () => {
        assert.deepEqual(tree.gaps, []);
        assert.equal(tree.costs().length, 4);
        const theirs = await unpackedTree(rootfs[tag]);
        // The differences, eStargz's own files: its TOC (a tar entry after the files, which the TOC
        // does not list) and its landmark, which umoci extracts like any file and the snapshotter hides.
        if (tag === 'esgz') {
          assert.ok(theirs.delete('stargz.index.json'), 'umoci unpacks the TOC');
          assert.ok(theirs.delete('.prefetch.landmark') || theirs.delete('.no.prefetch.landmark'), 'umoci unpacks a landmark file');
        }
        const ours = new Map([...tree.entries()].map((e) => [e.path, describeEntry(e)]));
        const differ = [...new Set([...theirs.keys(), ...ours.keys()])].filter((p) => theirs.get(p) !== ours.get(p)).slice(0, 20);
        assert.deepEqual(differ.map((p) => `${p}: ours ${ours.get(p)}, umoci ${theirs.get(p)}`), []);
        assert.ok(ours.size > 10_000, `${ours.size} paths`);
        // What the layers did, as the container sees it.
        for (const gone of ['etc/issue.net', 'etc/debian_version', 'usr/share/doc/bash', 'etc/apt/apt.conf.d']) assert.equal(tree.stat(gone), undefined, gone);
        assert.deepEqual(tree.list('etc/apt').map((e) => e.path), ['etc/apt/sources.list']);
        assert.equal(tree.stat('etc/issue')?.type, 'dir');
        assert.equal(tree.stat('usr/share/doc/tar')?.type, 'reg');
        assert.deepEqual(['data/b', 'data/sub/c'].map((p) => tree.stat(p)?.hardlink), ['data/a', 'data/a']);
      });

      it('reads 200 random files as umoci unpacked them', async () => {
        const random = seeded(20240611);
        const files = [...tree.entries()].filter((e) => e.type === 'reg');
        const sample = new Set(['data/b', 'etc/shells', 'usr/share/doc/tar']);
        while (sample.size < 200) sample.add(files[Math.floor(random() * files.length)]!.path);
        for (const path of sample) {
          const read = await tree.read(path);
          assert.ok(read.bytes.equals(await readFile(join(rootfs[tag], path))), path);
        }
      });

      it('resolves links inside the image: never the host, never forever', async () => {
        const escape = await tree.read('/data/escape');
        assert.equal(escape.path, 'etc/passwd');
        assert.deepEqual(escape.bytes, await readFile(join(rootfs[tag], 'etc/passwd')));
        assert.equal((await tree.read('data/docs/tar')).bytes.toString(), 'file\n');
        await assert.rejects(tree.read('data/loop1'), (e: Error & { code?: string }) => e.code === 'INVALID_FORMAT' && e.message.includes('from /data/loop1'));
      });
    });
  }

  it('names a layer whose TOC is corrupt, and lists the others', async () => {
    const { image } = await resolveImage(layout, 'esgz', 'test');
    const target = image.manifest.layers[2]!;
    const blob = await readFile(join(dir, 'out', 'blobs', 'sha256', target.digest.slice(7)));
    // The TOC sits just before the 51-byte footer: flip bytes inside it, and re-address the blob.
    const bad = Buffer.from(blob);
    for (let i = blob.length - 51 - 40; i < blob.length - 51 - 20; i++) bad[i]! ^= 0x55;
    const descriptor = { ...target, digest: sha256(bad), size: bad.length };
    await layout.putBlob(descriptor, async () => Readable.from([bad]));
    const manifest: ImageManifest = { ...image.manifest, layers: image.manifest.layers.map((l, i) => (i === 2 ? descriptor : l)) };
    await layout.putManifest(Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest, 'broken-toc');
    const tree = await open(layout, 'broken-toc');
    assert.equal(tree.gaps.length, 1);
    const [gap] = tree.gaps;
    assert.deepEqual([gap!.index, gap!.digest, gap!.broken], [3, descriptor.digest, true]);
    assert.match(gap!.reason, new RegExp(`layer 3/4 \\(${descriptor.digest}\\)`));
    assert.equal(tree.stat('data/a')?.layer, 4);
    assert.equal(tree.stat('etc/passwd')?.layer, 1);
    // Without layer 3, the lower layers' /etc/apt shows: the gap says why.
    assert.ok(tree.stat('etc/apt/apt.conf.d'));
    await assert.rejects(tree.read('etc/issue/x'), /not listed: layer 3/);
  });

  it('ls-files and find print the merged root, untrusted names made safe, and JSON', async () => {
    const ref = `oci:${join(dir, 'out')}:esgz`;
    const text = await lazyimg('ls-files', ref, '/data');
    assert.match(text, /^reg +0644 +7 B +L4 +\/data\/b => \/data\/a$/m);
    assert.match(text, /^symlink +0777 +- +L4 +\/data\/escape -> \.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd$/m);
    assert.ok(!text.includes('\x1b'), 'no escape sequence reaches the terminal');
    const json = JSON.parse(await lazyimg('ls-files', ref, 'data', '--json')) as { entries: MergedEntry[]; gaps: unknown[] };
    assert.ok(json.entries.some((e) => e.path === `data/${EVIL}`));
    assert.deepEqual(json.gaps, []);
    const found = await lazyimg('find', `oci:${join(dir, 'out')}:src-soci`, 'sources.list');
    assert.match(found, /^reg +0644 +4 B +L3 +\/etc\/apt\/sources\.list +\[SOCI span 0\]$/m);
    const untouched = await lazyimg('ls-files', `oci:${join(dir, 'out')}:src`);
    assert.match(untouched, /^Not listed: layer 1 sha256:[0-9a-f]{64}: not lazy/m);
    assert.equal((await lazyimg('cat', ref, '/etc/shells')).split('\n').at(-2), '/bin/zsh');
    assert.equal((await runCli(['cat', ref, '/etc/issue.net'])).code, 1);
    assert.match(await lazyimg('cat', ref, '/etc/issue.net', '--layer', '1'), /Debian/);
  });

  describe('through a registry', () => {
    let registry: RegistryFixture;
    let proxy: FakeServer;
    let counted = 0;
    let stores: Stores;

    before(async () => {
      registry = await startRegistry();
      proxy = await startRegistryProxy(registry.host, { onResponseBytes: (_url, n) => (counted += n) });
      const out = `oci:${join(dir, 'out')}`;
      await lazyimg('--insecure', registry.host, 'copy', `${out}:esgz`, `${registry.host}/debian:esgz`);
      await lazyimg('--insecure', registry.host, 'copy', '--all-platforms', `${out}:src-soci`, `${registry.host}/debian:soci`);
      stores = new Stores({ insecure: [proxy.host] });
    });
    after(async () => {
      await stores?.close();
      await proxy?.close();
      await registry?.stop();
    });

    for (const tag of ['esgz', 'soci']) {
      it(`${tag}: opening fetches exactly the indexes, listing nothing, a 10 KB file a sliver of its layer`, async () => {
        const store = await stores.open(parseReference(`${proxy.host}/debian:${tag}`));
        const lazy = await imageLaziness(store, tag);
        counted = 0;
        const tree = await MergedTree.open(store, lazy, `${proxy.host}/debian:${tag}`);
        const indexes = tree.costs().reduce((n, c) => n + c.fetched, 0);
        assert.equal(counted, indexes, 'opening fetched the TOCs or zTOCs and nothing else');
        if (tag === 'soci') assert.equal(indexes, lazy.layers.reduce((n, l) => n + l.soci!.ztoc.size, 0));
        const started = performance.now();
        const root = tree.list('');
        const listing = performance.now() - started;
        // How long listing took is printed below, not asserted: a loaded machine may pause anywhere.
        assert.ok(root.some((e) => e.path === 'usr'), `${root.length} entries`);
        assert.equal(counted, indexes, 'listing fetched nothing');

        const small = [...tree.entries()].find((e) => e.type === 'reg' && e.layer === 1 && e.size > 9_000 && e.size < 11_000 && (e.spans ? e.spans[0] === e.spans[1] : true))!;
        const layerSize = lazy.layers[0]!.descriptor.size;
        const read = await tree.read(small.path);
        assert.equal(read.bytes.length, small.size);
        assert.equal(counted - indexes, read.fetched, 'the proxy counted what the reader says it fetched');
        if (tag === 'soci') assert.equal(tree.costs()[0]!.fetched, lazy.layers[0]!.soci!.ztoc.size + read.fetched, 'the zTOC and the span');
        if (tag === 'esgz') assert.ok(read.fetched < layerSize / 100, `${read.fetched} bytes of a ${layerSize}-byte layer for /${small.path}`);
        else assert.equal(read.spans?.length, 1, `one span for /${small.path}`);
        console.log(`${tag}: open ${indexes} B of index for ${tree.costs().length} layers; /${small.path} (${small.size} B) fetched ${read.fetched} B of a ${layerSize}-byte layer (${((read.fetched / layerSize) * 100).toFixed(3)}%); root listed in ${listing.toFixed(2)} ms`);
      });
    }
  });
});
