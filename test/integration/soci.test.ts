// SOCI interop with the real `soci` CLI (v0.16.1, built from its Go module by .ci/run): for the
// same layers and span size, the zTOCs we build are byte for byte the ones `soci convert` builds,
// and decode to the same checkpoints, span digests and file metadata. The layers cover PAX and
// GNU headers, pigz output, concatenated gzip members, a plain tar and an empty-file-heavy layer.
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
import { MediaType, OciLayoutStore, sha256, type Descriptor, type ImageIndex, type ImageManifest } from '../../src/core/oci/index.js';
import { buildZtoc } from '../../src/core/soci/build.js';
import { decodeGzipZinfo } from '../../src/core/soci/zinfo.js';
import { decodeZtoc } from '../../src/core/soci/ztoc.js';
import { tempLayout } from '../helpers/images.js';
import { requireCachedTool, requireTool } from '../helpers/tools.js';
import { makeTar } from '../unit/estargz/helpers.js';

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

describe('SOCI interop with the soci CLI', { timeout: 600_000 }, () => {
  let work: string;
  let source: OciLayoutStore;
  let layers: Layer[];
  /** soci's zTOC blobs, by layer digest. */
  const theirs = new Map<string, Buffer>();

  before(async () => {
    const soci = requireCachedTool('soci-v0.16.1/soci');
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
    const out = join(work, 'soci-out');
    await exec(soci, ['--root', join(work, 'soci-root'), 'convert', '--standalone', '--format', 'oci-dir', '--span-size', String(SPAN), '--min-layer-size', '0', source.dir, out]);
    const top = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as ImageIndex;
    const index = JSON.parse((await blobOf(out, top.manifests[0]!.digest)).toString()) as ImageIndex;
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
});
