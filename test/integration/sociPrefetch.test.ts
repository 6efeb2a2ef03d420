// SOCI prefetch artifacts against the real `soci convert --standalone` (v0.16.1): for the same
// image and the same files, given with --prefetch-file or --prefetch-files-json, `lazyimg index`
// writes the same SOCI-enabled image, digest for digest: the image index, the SOCI index manifest
// and every prefetch artifact. Two images: the Debian base image (one large layer, 4 MiB spans)
// and a three-layer image with 64 KiB spans, files in every layer, overridden and whited out,
// and a layer left without a zTOC. The files soci warns it cannot find are the ones we report.
// v1 too: `soci create --prefetch-file` in a real containerd writes our v1 index manifest.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { OciLayoutStore, type Descriptor, type ImageIndex, type ImageManifest } from '../../src/core/oci/index.js';
import type { PrefetchResult } from '../../src/core/jobs/index.js';
import { cleanPrefetchPath, decodePrefetchArtifact, PREFETCH_MEDIA_TYPE } from '../../src/core/soci/index.js';
import { writeMultiLayerImage } from '../helpers/multiLayerImage.js';
import { requireCachedTool } from '../helpers/tools.js';
import { runCli } from './fixtures/cli.js';
import { startContainerd, type Containerd } from './fixtures/containerd.js';

const exec = promisify(execFile);
const BASE = join(process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images'), 'base-bookworm', 'layout');
const LAYER_DIGEST = 'com.amazon.soci.image-layer-digest';

/** What a Python start reads, and the paths soci treats in its own way: a folder, a path through the /bin symlink, a missing file, spaces. */
const DEBIAN_FILES = [
  '/usr/bin/python3.11', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libm.so.6', '/usr/lib/x86_64-linux-gnu/libz.so.1',
  '/usr/lib/python3.11/os.py', '/usr/lib/python3.11/encodings/__init__.py', '/usr/lib/python3.11/encodings/utf_8.py', '/usr/lib/python3.11/site.py',
  '/usr/lib/x86_64-linux-gnu/libcrypto.so.3', '  /etc/passwd ', 'usr//bin/../bin/ls', '/usr/lib/locale/', '/bin/bash', '/no/such/file', '/usr/bin/python3',
];

/** Files in every layer: one overridden above, one whited out above, one replaced by a file above, one in a layer that may get no zTOC. */
const MULTI_FILES = ['/etc/os-release', '/usr/bin/tool', '/usr/bin/su', '/usr/bin/t', '/opt/data/données-é.txt', '/opt/data/model.bin', '/srv/site.tar', '/app/static/bundle.js', '/app/run.sh', '/usr/share/doc/page-3.txt', '/usr/bin/tool-alias'];

interface Converted {
  dir: string;
  top: Descriptor;
  /** Everything soci printed: its warnings name the files it found nowhere. */
  output: string;
}

async function blobOf(layout: string, digest: string): Promise<Buffer> {
  return readFile(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

async function lazyimg(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `lazyimg ${args.join(' ')}: ${r.stderr}`);
  return r;
}

/** The SOCI index manifest a SOCI-enabled image index lists, and its prefetch artifacts' bytes. */
async function sociIndexOf(layout: string, top: string): Promise<{ digest: string; manifest: ImageManifest; artifacts: Map<string, Buffer> }> {
  const index = JSON.parse((await blobOf(layout, top)).toString()) as ImageIndex;
  const entry = index.manifests.find((m) => m.artifactType === 'application/vnd.amazon.soci.index.v2+json')!;
  const manifest = JSON.parse((await blobOf(layout, entry.digest)).toString()) as ImageManifest;
  const artifacts = new Map<string, Buffer>();
  for (const l of manifest.layers.filter((d) => d.mediaType === PREFETCH_MEDIA_TYPE)) artifacts.set(l.annotations![LAYER_DIGEST]!, await blobOf(layout, l.digest));
  return { digest: entry.digest, manifest, artifacts };
}

describe('SOCI prefetch artifacts: lazyimg index against soci convert --standalone', { timeout: 600_000 }, () => {
  let work: string;
  let soci: string;
  let multi: string;
  let count = 0;

  async function sociConvert(layout: string, flags: string[]): Promise<Converted> {
    const dir = join(work, `soci-${++count}`);
    const { stdout, stderr } = await exec(soci, ['--root', join(work, `soci-root-${count}`), 'convert', '--standalone', '--format', 'oci-dir', ...flags, layout, dir], { maxBuffer: 64 * 1024 * 1024 });
    const top = (JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex).manifests[0]!;
    return { dir, top, output: stdout + stderr };
  }

  async function ours(source: string, flags: string[]): Promise<{ dir: string; image: Descriptor; prefetch: PrefetchResult; stderr: string }> {
    const dir = join(work, `ours-${++count}`);
    const r = await lazyimg('index', source, `oci:${dir}:soci`, ...flags, '--json');
    const out = JSON.parse(r.stdout) as { image: Descriptor; indexes: Array<{ prefetch?: PrefetchResult }> };
    assert.equal(out.indexes.length, 1);
    return { dir, image: out.image, prefetch: out.indexes[0]!.prefetch!, stderr: r.stderr };
  }

  /** The same image index digest, then each SOCI index blob and artifact byte for byte; returns the artifacts. */
  async function assertSame(label: string, mine: { dir: string; image: Descriptor; prefetch: PrefetchResult }, theirs: Converted): Promise<Map<string, Buffer>> {
    const a = await sociIndexOf(mine.dir, mine.image.digest);
    const b = await sociIndexOf(theirs.dir, theirs.top.digest);
    assert.deepEqual(a.manifest, b.manifest, `${label}: the SOCI index manifest`);
    assert.equal(a.digest, b.digest, `${label}: the SOCI index digest`);
    assert.deepEqual([...a.artifacts.keys()], [...b.artifacts.keys()], `${label}: artifacts for the same layers`);
    for (const [layer, bytes] of b.artifacts) assert.ok(a.artifacts.get(layer)!.equals(bytes), `${label}: the artifact of ${layer}: ${a.artifacts.get(layer)} vs ${bytes}`);
    assert.equal(mine.image.digest, theirs.top.digest, `${label}: the image index digest`);
    for (const l of [...b.manifest.layers, b.manifest.config]) assert.ok((await blobOf(mine.dir, l.digest)).equals(await blobOf(theirs.dir, l.digest)), `${label}: blob ${l.digest}`);
    // Our report names the artifacts the index lists.
    assert.deepEqual(mine.prefetch.artifacts.map((x) => [x.layer, x.digest]), b.manifest.layers.filter((l) => l.mediaType === PREFETCH_MEDIA_TYPE).map((l) => [l.annotations![LAYER_DIGEST], l.digest]));
    // soci warns "prefetch file <cleaned path> not found in any layer" for what we list as missing.
    const warned = [...theirs.output.matchAll(/prefetch file (.*?) not found in any layer/g)].map((m) => m[1]);
    assert.deepEqual(mine.prefetch.missing.map(cleanPrefetchPath), warned, `${label}: the files soci found nowhere`);
    return b.artifacts;
  }

  before(async () => {
    if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh (.ci/run does)`);
    soci = requireCachedTool('soci-v0.16.1/soci');
    work = await mkdtemp(join(tmpdir(), 'lazyimg-soci-prefetch-'));
    multi = join(work, 'multi');
    await writeMultiLayerImage(await OciLayoutStore.open(multi, { create: true }), 'multi');
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('Debian, --prefetch-file repeated and comma-separated: the same image index, SOCI index and prefetch artifact', async (t) => {
    // Some flags carry two paths, as soci's flag parser splits at commas.
    const flags = ['--prefetch-file', DEBIAN_FILES.slice(0, 3).join(','), ...DEBIAN_FILES.slice(3).flatMap((f) => ['--prefetch-file', f])];
    const [mine, theirs] = [await ours(`oci:${BASE}:bookworm`, flags), await sociConvert(BASE, flags)];
    const artifacts = await assertSame('Debian', mine, theirs);
    assert.equal(artifacts.size, 1);
    const spans = decodePrefetchArtifact([...artifacts.values()][0]!, 'soci');
    assert.ok(spans.length > 1, `${spans.length} span ranges`);
    assert.deepEqual(mine.prefetch.missing.map((p) => p.trim()), ['/usr/lib/locale/', '/bin/bash', '/no/such/file']);
    // The symlink itself is found (its tar entry), not the file it points at.
    assert.equal(mine.prefetch.files.find((f) => f.path === '/usr/bin/python3')?.name, 'usr/bin/python3');
    assert.match(mine.stderr, /warning: not prefetched, in no layer with a zTOC: \/usr\/lib\/locale\/, \/bin\/bash, \/no\/such\/file/);
    t.diagnostic(`Debian: image index ${theirs.top.digest}; artifact ${[...artifacts.values()][0]!.toString()}; ${mine.prefetch.files.length} files found, ${mine.prefetch.missing.length} missing`);
  });

  it('Debian, --prefetch-files-json with the same files: the same digests again', async () => {
    const json = join(work, 'files.json');
    await writeFile(json, JSON.stringify(DEBIAN_FILES));
    const [mine, theirs] = [await ours(`oci:${BASE}:bookworm`, ['--prefetch-files-json', json]), await sociConvert(BASE, ['--prefetch-files-json', json])];
    await assertSame('Debian (JSON)', mine, theirs);
    const flags = await ours(`oci:${BASE}:bookworm`, DEBIAN_FILES.flatMap((f) => ['--prefetch-file', f]));
    assert.equal(flags.image.digest, mine.image.digest, 'the flags and the JSON file give the same image');
  });

  it('three layers, 64 KiB spans, both flags at once: one artifact per layer holding a file, the topmost layer winning', async (t) => {
    const json = join(work, 'multi.json');
    await writeFile(json, JSON.stringify(MULTI_FILES.slice(5)));
    const flags = ['--span-size', '65536', '--min-layer-size', '0', '--prefetch-file', MULTI_FILES.slice(0, 5).join(','), '--prefetch-files-json', json];
    const [mine, theirs] = [await ours(`oci:${multi}:multi`, flags), await sociConvert(multi, flags)];
    const artifacts = await assertSame('multi-layer', mine, theirs);
    assert.equal(artifacts.size, 3, 'each of the three layers holds a file');
    const layerOf = (path: string): number => mine.prefetch.artifacts.findIndex((a) => a.layer === mine.prefetch.files.find((f) => f.path === path)?.layer);
    assert.equal(layerOf('/etc/os-release'), 1, 'the second layer\'s copy');
    assert.equal(layerOf('/usr/bin/su'), 0, 'whited out above, soci still finds it in the base layer');
    assert.equal(layerOf('/usr/bin/t'), 2, 'the file of the top layer, not the symlink below');
    t.diagnostic(`multi-layer: ${[...artifacts.values()].map((b) => b.toString()).join(' | ')}`);
  });

  it('three layers, the top one under --min-layer-size: its files are looked for lower down, or missing', async () => {
    const flags = ['--span-size', '65536', '--min-layer-size', '1000000', ...MULTI_FILES.flatMap((f) => ['--prefetch-file', f])];
    const [mine, theirs] = [await ours(`oci:${multi}:multi`, flags), await sociConvert(multi, flags)];
    const artifacts = await assertSame('multi-layer, top layer skipped', mine, theirs);
    assert.equal(artifacts.size, 2);
    assert.deepEqual(mine.prefetch.missing, ['/app/static/bundle.js', '/app/run.sh']);
    assert.equal(mine.prefetch.files.find((f) => f.path === '/usr/bin/t')?.layer, mine.prefetch.artifacts[0]!.layer, 'the base layer\'s symlink');
  });

  it('v1: soci create --prefetch-file in a real containerd writes the index manifest lazyimg index --soci-version v1 writes', async () => {
    const flags = ['--span-size', '65536', '--min-layer-size', '0', ...MULTI_FILES.flatMap((f) => ['--prefetch-file', f])];
    let containerd: Containerd | undefined;
    let theirs: string;
    let digest: string;
    let artifacts: Array<{ digest: string; bytes: Buffer }>;
    const root = join(work, 'soci-create-root');
    try {
      containerd = await startContainerd();
      await containerd.importLayout(multi, 'src');
      const sociCtr = async (...args: string[]): Promise<string> => (await exec(soci, ['--address', containerd!.address, '--root', root, ...args], { maxBuffer: 64 * 1024 * 1024 })).stdout;
      await sociCtr('create', ...flags, 'src:multi');
      digest = (await sociCtr('index', 'list', '-q')).trim();
      assert.match(digest, /^sha256:[0-9a-f]{64}$/, 'one index in a root of its own');
      theirs = (await sociCtr('index', 'info', digest)).trim();
      const manifest = JSON.parse(theirs) as ImageManifest;
      artifacts = await Promise.all(manifest.layers.filter((l) => l.mediaType === PREFETCH_MEDIA_TYPE).map(async (l) => ({ digest: l.digest, bytes: Buffer.from(await containerd!.ctr('content', 'get', l.digest)) })));
    } finally {
      await containerd?.stop();
    }
    const copy = join(work, 'v1');
    await lazyimg('copy', `oci:${multi}:multi`, `oci:${copy}:multi`);
    const out = JSON.parse((await lazyimg('index', `oci:${copy}:multi`, '--soci-version', 'v1', ...flags, '--json')).stdout) as { indexes: Array<{ index: Descriptor; prefetch: PrefetchResult }> };
    assert.equal(artifacts.length, 3);
    assert.equal(out.indexes[0]!.index.digest, digest, 'the same v1 index manifest digest');
    assert.deepEqual(JSON.parse((await blobOf(copy, out.indexes[0]!.index.digest)).toString()), JSON.parse(theirs), 'the same v1 index manifest');
    for (const a of artifacts) assert.ok((await blobOf(copy, a.digest)).equals(a.bytes), `artifact ${a.digest}`);
    assert.deepEqual(out.indexes[0]!.prefetch.artifacts.map((a) => a.digest), artifacts.map((a) => a.digest));
  });

  it('no file found anywhere: no artifact, the index soci writes without any', async () => {
    const flags = ['--prefetch-file', '/no/such/file'];
    const [mine, theirs] = [await ours(`oci:${BASE}:bookworm`, flags), await sociConvert(BASE, flags)];
    await assertSame('Debian, nothing found', mine, theirs);
    assert.deepEqual(mine.prefetch.artifacts, []);
    const plain = await ours(`oci:${BASE}:bookworm`, []);
    assert.equal(plain.image.digest, mine.image.digest, 'the same image as without the flag');
  });
});
