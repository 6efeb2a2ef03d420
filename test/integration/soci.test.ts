// SOCI interop with the real `soci` CLI (v0.16.1, built from its Go module by .ci/run): for the
// same layers and span size, the zTOCs we build are byte for byte the ones `soci convert` builds,
// and decode to the same checkpoints, span digests and file metadata. The layers cover PAX and
// GNU headers, pigz output, concatenated gzip members, a plain tar, empty files and hard links.
// `lazyimg index` writes the same SOCI-enabled image as `soci convert` (same digests), `verify
// --deep` finds soci's zTOCs equal to the ones it rebuilds, and
// `lazyimg ztoc --json` prints what `soci ztoc info` prints for the zTOCs `soci create` made in
// a real containerd.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { MediaType, OciLayoutStore, sha256, writeImage, type Descriptor, type ImageIndex, type ImageManifest } from '../../src/core/oci/index.js';
import { buildZtoc } from '../helpers/ztoc.js';
import { decodeGzipZinfo } from '../../src/core/soci/zinfo.js';
import { decodeZtoc } from '../../src/core/soci/ztoc.js';
import { tempLayout } from '../helpers/images.js';
import { requireCachedTool, requireTool } from '../helpers/tools.js';
import { makeTar } from '../unit/estargz/helpers.js';
import { runCli } from './fixtures/cli.js';
import { startContainerd, type Containerd } from './fixtures/containerd.js';
import { RegistryClient, RegistryStore } from '../../src/core/registry/index.js';
import { credentialsFor, startRegistry, type RegistryFixture } from './fixtures/registry.js';
import { startRegistryProxy } from './fixtures/registryProxy.js';
import type { FakeServer } from './fixtures/fakeServer.js';

const exec = promisify(execFile);
const SPAN = 64 * 1024;
const LAYER_DIGEST = 'com.amazon.soci.image-layer-digest';

interface Layer {
  label: string;
  blob: Buffer;
  mediaType: string;
  diffId: string;
}

async function pigz(tar: Buffer): Promise<Buffer> {
  const child = execFile(requireTool('pigz', 'apt-get install pigz'), ['-c', '-6', '-b', '128', '-p', '2'], { encoding: 'buffer', maxBuffer: 1 << 30 });
  const out: Promise<Buffer> = new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    child.stdout!.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(chunks)) : reject(new Error(`pigz exited ${code}`))));
  });
  child.stdin!.end(tar);
  return out;
}

/** An OCI layout holding one image whose layers are exactly these blobs. */
async function layoutOf(layers: Layer[]): Promise<OciLayoutStore> {
  const store = await tempLayout('lazyimg-soci-src-');
  for (const l of layers) await store.putBlob({ mediaType: l.mediaType, digest: sha256(l.blob), size: l.blob.length }, async () => Readable.from([l.blob]));
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, config: {} }));
  const configDescriptor: Descriptor = { mediaType: MediaType.OciConfig, digest: sha256(config), size: config.length };
  await store.putBlob(configDescriptor, async () => Readable.from([config]));
  const manifest: ImageManifest = {
    schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDescriptor,
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: sha256(l.blob), size: l.blob.length })),
  };
  await store.putManifest(Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest, 'src');
  return store;
}

async function blobOf(layout: string, digest: string): Promise<Buffer> {
  return readFile(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

async function lazyimg(...args: string[]): Promise<string> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `lazyimg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `soci convert --standalone` of a layout; returns the output layout and its top image index. */
async function sociConvert(soci: string, work: string, layout: string, name: string, ...flags: string[]): Promise<{ dir: string; top: Descriptor }> {
  const dir = join(work, name);
  await exec(soci, ['--root', join(work, `${name}-root`), 'convert', '--standalone', '--format', 'oci-dir', ...flags, layout, dir]);
  const top = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  return { dir, top: top.manifests[0]! };
}

describe('SOCI interop with the soci CLI', { timeout: 600_000 }, () => {
  let work: string;
  let soci: string;
  let source: OciLayoutStore;
  let layers: Layer[];
  /** soci's zTOC blobs, by layer digest. */
  const theirs = new Map<string, Buffer>();
  let sociImage: { dir: string; top: Descriptor };

  before(async () => {
    soci = requireCachedTool('soci-v0.16.1/soci');
    work = await mkdtemp(join(tmpdir(), 'lazyimg-soci-interop-'));
    const [edge, gnu, plain, big] = await Promise.all([makeTar('edge'), makeTar('gnu'), makeTar('plain'), makeTar('big', '3')]);
    const members = Buffer.concat([gzipSync(big!.subarray(0, 1_000_000), { level: 1 }), gzipSync(big!.subarray(1_000_000, 1_000_003)), gzipSync(big!.subarray(1_000_003), { level: 9 })]);
    layers = [
      { label: 'PAX edge cases, Node gzip', blob: gzipSync(edge!, { level: 6 }), mediaType: MediaType.OciLayerGzip, diffId: sha256(edge!) },
      { label: 'GNU headers, pigz', blob: await pigz(gnu!), mediaType: MediaType.OciLayerGzip, diffId: sha256(gnu!) },
      { label: 'plain tar', blob: plain!, mediaType: MediaType.OciLayer, diffId: sha256(plain!) },
      { label: '3 MiB of files, three gzip members', blob: members, mediaType: MediaType.OciLayerGzip, diffId: sha256(big!) },
    ];
    source = await layoutOf(layers);
    sociImage = await sociConvert(soci, work, source.dir, 'soci-out', '--span-size', String(SPAN), '--min-layer-size', '0');
    const out = sociImage.dir;
    const index = JSON.parse((await blobOf(out, sociImage.top.digest)).toString()) as ImageIndex;
    const sociIndex = index.manifests.find((m) => m.artifactType === 'application/vnd.amazon.soci.index.v2+json')!;
    const manifest = JSON.parse((await blobOf(out, sociIndex.digest)).toString()) as ImageManifest;
    for (const z of manifest.layers) theirs.set(z.annotations![LAYER_DIGEST]!, await blobOf(out, z.digest));
  });

  after(async () => {
    await rm(work ?? '', { recursive: true, force: true });
    await rm(source?.dir ?? '', { recursive: true, force: true });
  });

  it('soci indexed every layer', () => {
    assert.equal(theirs.size, layers.length);
  });

  for (const i of [0, 1, 2, 3]) {
    it(`builds the same zTOC as soci for layer ${i}`, async () => {
      const layer = layers[i]!;
      const digest = sha256(layer.blob);
      const expected = theirs.get(digest);
      assert.ok(expected, `soci made a zTOC for ${layer.label}`);
      const compression = layer.mediaType === MediaType.OciLayer ? 'none' : 'gzip';
      const built = await buildZtoc(createReadStream(join(source.dir, 'blobs', 'sha256', digest.slice(7))), compression, layer.label, { spanSize: SPAN });
      const ours = built.ztoc;
      const soci = decodeZtoc(expected, `soci's zTOC of ${layer.label}`);
      // Field by field first, so a difference says where it is.
      assert.deepEqual({ ...ours, entries: ours.entries.length, checkpoints: ours.checkpoints.length }, { ...soci, entries: soci.entries.length, checkpoints: soci.checkpoints.length });
      ours.entries.forEach((e, j) => assert.deepEqual(e, soci.entries[j], `${layer.label}: entry ${j} (${e.name})`));
      if (compression === 'gzip') {
        const a = decodeGzipZinfo(ours.checkpoints, 'ours');
        const b = decodeGzipZinfo(soci.checkpoints, 'soci');
        assert.deepEqual(a.checkpoints.map((c) => [c.in, c.out, c.bits, sha256(c.window)]), b.checkpoints.map((c) => [c.in, c.out, c.bits, sha256(c.window)]));
        if (i === 0 || i === 3) assert.ok(a.checkpoints.length > 3, `${layer.label}: ${a.checkpoints.length} checkpoints`);
      }
      assert.ok(built.bytes.equals(expected), `${layer.label}: the zTOC bytes equal soci's`);
    });
  }

  it('covers checkpoints with and without unused bits, files over several spans, empty files and hard links', () => {
    const all = [0, 1, 3].flatMap((i) => decodeGzipZinfo(decodeZtoc(theirs.get(sha256(layers[i]!.blob))!, 't').checkpoints, 't').checkpoints.slice(1));
    assert.ok(all.some((c) => c.bits === 0));
    assert.ok(all.some((c) => c.bits !== 0));
    const big = decodeZtoc(theirs.get(sha256(layers[3]!.blob))!, 't');
    assert.ok(big.entries.some((e) => e.uncompressedSize > 2 * SPAN), 'a file spans several spans');
    const edge = decodeZtoc(theirs.get(sha256(layers[0]!.blob))!, 't');
    assert.ok(edge.entries.some((e) => e.type === 'reg' && e.uncompressedSize === 0), 'an empty file');
    assert.ok(edge.entries.some((e) => e.type === 'hardlink'), 'a hard link');
  });

  it('lazyimg index writes the SOCI-enabled image soci convert writes, digest for digest', async () => {
    const ours = join(work, 'ours');
    const out = JSON.parse(await lazyimg('index', `oci:${source.dir}:src`, `oci:${ours}:soci`, '--span-size', String(SPAN), '--min-layer-size', '0', '--json')) as { image: Descriptor };
    assert.equal(out.image.digest, sociImage.top.digest, 'the image index');
    const theirIndex = await blobOf(sociImage.dir, sociImage.top.digest);
    assert.ok((await blobOf(ours, out.image.digest)).equals(theirIndex));
    // Every blob soci wrote (zTOCs, SOCI index, rewritten manifest, config) is in ours too, byte for byte.
    for (const d of (JSON.parse(theirIndex.toString()) as ImageIndex).manifests) {
      const manifest = JSON.parse((await blobOf(sociImage.dir, d.digest)).toString()) as ImageManifest;
      for (const b of [d, manifest.config, ...manifest.layers]) assert.ok((await blobOf(ours, b.digest)).equals(await blobOf(sociImage.dir, b.digest)), b.digest);
    }
  });

  it('verify --deep passes the image soci convert made: each of its zTOCs is, field by field, the one we rebuild from the layer', async () => {
    const report = JSON.parse(await lazyimg('verify', '--deep', `oci:${sociImage.dir}@${sociImage.top.digest}`, '--json')) as {
      ok: boolean; deep: boolean; layers: Array<{ label: string; soci?: { lazy: boolean; rebuilt?: boolean; spans: number; spansVerified: number; problems: string[] } }>;
    };
    assert.equal(report.ok, true, JSON.stringify(report.layers.map((l) => l.soci?.problems)));
    assert.equal(report.deep, true);
    assert.equal(report.layers.length, layers.length);
    for (const l of report.layers) {
      assert.equal(l.soci?.rebuilt, true, `${l.label}: rebuilt`);
      assert.equal(l.soci.spansVerified, l.soci.spans, `${l.label}: every span`);
    }
  });

  it('skips layers under the minimum size exactly as soci does: one byte under and at the limit', async () => {
    const sizes = layers.map((l) => l.blob.length).sort((a, b) => a - b);
    const limit = sizes[2]!;
    for (const min of [limit, limit + 1]) {
      const theirs = await sociConvert(soci, work, source.dir, `soci-min-${min}`, '--span-size', String(SPAN), '--min-layer-size', String(min));
      const ours = join(work, `ours-min-${min}`);
      const out = JSON.parse(await lazyimg('index', `oci:${source.dir}:src`, `oci:${ours}:soci`, '--span-size', String(SPAN), '--min-layer-size', String(min), '--json')) as { image: Descriptor; indexes: Array<{ layers: Array<{ ztoc?: unknown; skipped?: string }> }> };
      assert.equal(out.image.digest, theirs.top.digest, `--min-layer-size ${min}`);
      assert.equal(out.indexes[0]!.layers.filter((l) => l.ztoc).length, min === limit ? 2 : 1);
      assert.ok(out.indexes[0]!.layers.some((l) => /smaller than the minimum layer size/.test(l.skipped ?? '')));
    }
  });

  it('refuses, as soci does, an image where no layer is big enough', async () => {
    await assert.rejects(exec(soci, ['--root', join(work, 'none-root'), 'convert', '--standalone', '--format', 'oci-dir', source.dir, join(work, 'soci-none')]));
    const r = await runCli(['index', `oci:${source.dir}:src`, `oci:${join(work, 'ours-none')}:soci`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no layer got a zTOC \(.*smaller than the minimum layer size \(10485760 bytes\)/);
  });

  describe('with soci create in a real containerd', () => {
    let containerd: Containerd;
    const root = (): string => join(work, 'soci-create-root');
    const sociCtr = (...args: string[]): Promise<{ stdout: string }> => exec(soci, ['--address', containerd.address, '--root', root(), ...args], { maxBuffer: 64 * 1024 * 1024 });

    before(async () => {
      containerd = await startContainerd();
      await containerd.importLayout(source.dir, 'src');
      await sociCtr('create', '--span-size', String(SPAN), '--min-layer-size', '0', 'src:src');
    });

    after(async () => {
      await containerd?.stop();
    });

    it('lazyimg ztoc --json prints what soci ztoc info prints', async () => {
      const ours = join(work, 'ours');
      for (const [i, layer] of layers.entries()) {
        const ztoc = sha256(theirs.get(sha256(layer.blob))!);
        const expected = (await sociCtr('ztoc', 'info', ztoc)).stdout;
        const actual = await lazyimg('ztoc', `oci:${ours}:soci`, '--layer', String(i + 1), '--json');
        assert.deepEqual(JSON.parse(actual), JSON.parse(expected), layer.label);
        assert.equal(actual.trim(), expected.trim(), `${layer.label}: the same bytes`);
      }
    });

    it('lazyimg index --soci-version v1 writes the index manifest soci create writes', async () => {
      const digest = (await sociCtr('index', 'list', '-q')).stdout.trim().split('\n')[0]!;
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);
      const theirs = (await sociCtr('index', 'info', digest)).stdout.trim();
      const copy = join(work, 'v1');
      await lazyimg('copy', `oci:${source.dir}:src`, `oci:${copy}:src`);
      const out = JSON.parse(await lazyimg('index', `oci:${copy}:src`, '--soci-version', 'v1', '--span-size', String(SPAN), '--min-layer-size', '0', '--json')) as { indexes: Array<{ index: Descriptor }> };
      assert.equal(out.indexes[0]!.index.digest, digest, 'the same v1 index manifest digest');
      assert.deepEqual(JSON.parse((await blobOf(copy, digest)).toString()), JSON.parse(theirs));
      // Found again through the layout's referrers.
      assert.match(await lazyimg('ztoc', `oci:${copy}:src`, '--layer', '2'), /in SOCI v1 index/);
    });

    it('lazyimg ztoc reads the indexes soci convert made', async () => {
      const text = await lazyimg('ztoc', `oci:${sociImage.dir}@${sociImage.top.digest}`, '--layer', '1');
      assert.match(text, /in SOCI v2 index sha256:[0-9a-f]{64}/);
      assert.match(text, /app\/bin\/server/);
    });
  });
});

describe('SOCI lazy reads through a registry', { timeout: 600_000 }, () => {
  let registry: RegistryFixture;
  let proxy: FakeServer;
  let source: OciLayoutStore;
  let tar: Buffer;
  let fetched = 0;

  before(async () => {
    registry = await startRegistry();
    proxy = await startRegistryProxy(registry.host, { onResponseBytes: (_url, n) => (fetched += n) });
    // 220 MiB of files, about half of them noise: a layer of about 100 MB.
    tar = (await makeTar('big', '220'))!;
    source = await tempLayout('lazyimg-soci-big-');
    await writeImage(source, [{ tar }], { tag: 'big', gzipLevel: 6 });
    await lazyimg('index', `oci:${source.dir}:big`);
    await lazyimg('--insecure', registry.host, 'copy', '--all-platforms', `oci:${source.dir}:big-soci`, `${registry.host}/app:soci`);
  });

  after(async () => {
    await proxy?.close();
    await registry?.stop();
    await rm(source?.dir ?? '', { recursive: true, force: true });
  });

  it('cat of a small file in a 100 MB layer fetches one span, the zTOC and the manifests, and gives the file', async () => {
    const host = proxy.host;
    const ztoc = JSON.parse(await lazyimg('ztoc', `oci:${source.dir}:big-soci`, '--layer', '1', '--json')) as { size: number; files: Array<{ filename: string; offset: number; size: number; type: string; start_span: number; end_span: number }> };
    const small = ztoc.files.filter((f) => f.type === 'reg' && f.size === 100 && f.start_span > 0 && f.start_span === f.end_span)[0]!;
    assert.ok(small, 'a 100-byte file inside one span');
    const layer = (JSON.parse(await lazyimg('inspect', `oci:${source.dir}:big`, '--json')) as { manifests: Array<{ layers: Array<{ size: number }> }> }).manifests[0]!.layers[0]!;
    assert.ok(layer.size > 95_000_000, `the layer is ${layer.size} bytes`);
    fetched = 0;
    const r = await runCli(['--insecure', host, 'cat', `${host}/app:soci`, `/${small.filename}`, '--stats']);
    assert.equal(r.code, 0, r.stderr);
    // The small files of this layer are text, so stdout compares as a string.
    assert.equal(r.stdout, tar.subarray(small.offset, small.offset + small.size).toString(), 'the bytes of the file');
    // One 4 MiB span compresses to at most a little over 4 MiB; the zTOC and three manifests are small.
    const spanBudget = 4 * 1024 * 1024 + 64 * 1024;
    assert.ok(fetched <= spanBudget + ztoc.size + 64 * 1024, `fetched ${fetched} bytes`);
    assert.ok(fetched < layer.size / 10, `fetched ${fetched} of ${layer.size}`);
    assert.match(r.stderr, new RegExp(`via soci, span ${small.start_span}; fetched`));
  });
});

for (const flavor of ['2.8', '3'] as const) {
  describe(`SOCI v1 indexes on distribution ${flavor}`, { timeout: 300_000 }, () => {
    let registry: RegistryFixture;
    let source: OciLayoutStore;

    before(async () => {
      registry = await startRegistry({ flavor });
      source = await tempLayout('lazyimg-soci-v1-');
      await writeImage(source, [{ tar: (await makeTar('edge'))! }, { tar: (await makeTar('big', '2'))! }], { tag: 'v', gzipLevel: 6 });
      await lazyimg('--insecure', registry.host, 'copy', `oci:${source.dir}:v`, `${registry.host}/app:v`);
    });

    after(async () => {
      await registry?.stop();
      await rm(source?.dir ?? '', { recursive: true, force: true });
    });

    it('attaches the index to the image, keeps other referrers, and is found and read back', async () => {
      const ref = `${registry.host}/app:v`;
      const image = JSON.parse(await lazyimg('--insecure', registry.host, 'inspect', ref, '--json')) as { digest: string };
      // Another referrer first: adding ours must not lose it.
      const other = await writeOtherReferrer(registry, image.digest);
      const out = JSON.parse(await lazyimg('--insecure', registry.host, 'index', ref, '--soci-version', 'v1', '--min-layer-size', '0', '--span-size', String(SPAN), '--json')) as { version: string; image: Descriptor; indexes: Array<{ index: Descriptor }> };
      assert.equal(out.version, 'v1');
      assert.equal(out.image.digest, image.digest, 'the image is unchanged');
      const referrers = await fetchReferrers(registry.host, image.digest);
      assert.ok(referrers.includes(out.indexes[0]!.index.digest), 'our index is a referrer');
      assert.ok(referrers.includes(other), 'the other referrer is still there');
      const text = await lazyimg('--insecure', registry.host, 'ztoc', ref, '--layer', '2');
      assert.match(text, /in SOCI v1 index sha256:[0-9a-f]{64}/);
      const inspected = JSON.parse(await lazyimg('--insecure', registry.host, 'inspect', ref, '--json')) as { manifests: Array<{ soci?: Array<{ index: string; version: string }> }> };
      assert.deepEqual(inspected.manifests[0]!.soci?.map((s) => [s.index, s.version]), [[out.indexes[0]!.index.digest, 'v1']]);
      const report = JSON.parse(await lazyimg('--insecure', registry.host, 'verify', ref, '--json')) as { ok: boolean; soci: Array<{ version: string }>; layers: Array<{ soci?: { lazy: boolean } }> };
      assert.equal(report.ok, true);
      assert.equal(report.soci[0]!.version, 'v1');
      assert.ok(report.layers.every((l) => l.soci?.lazy === true));
    });
  });
}

/** A small artifact manifest whose subject is `subject`, pushed with lazyimg's own store. */
async function writeOtherReferrer(registry: RegistryFixture, subject: string): Promise<string> {
  const client = new RegistryClient(registry.host, { credentials: credentialsFor(registry) });
  try {
    const store = new RegistryStore(client, 'app');
    const image = await store.getManifest(subject);
    const empty = Buffer.from('{}');
    await store.putBlob({ mediaType: 'application/vnd.example.note', digest: sha256(empty), size: 2 }, async () => Readable.from([empty]));
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType: 'application/vnd.example.note',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256(empty), size: 2 }, layers: [],
      subject: { mediaType: image.descriptor.mediaType, digest: subject, size: image.descriptor.size },
    }));
    return (await store.putManifest(manifest, MediaType.OciManifest)).digest;
  } finally {
    await client.close();
  }
}

/** The referrers as the registry lists them: its referrers API, or else the fallback tag's index. */
async function fetchReferrers(host: string, subject: string): Promise<string[]> {
  let res = await fetch(`http://${host}/v2/app/referrers/${subject}`, { headers: { accept: MediaType.OciIndex } });
  if (res.status === 404) res = await fetch(`http://${host}/v2/app/manifests/${subject.replace(':', '-')}`, { headers: { accept: MediaType.OciIndex } });
  assert.equal(res.status, 200);
  return ((await res.json()) as ImageIndex).manifests.map((m) => m.digest);
}
