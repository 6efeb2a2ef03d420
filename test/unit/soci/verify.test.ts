// A SOCI-enabled image read back as soci-snapshotter would: verify finds the index through the
// manifest annotation and checks every span; cat fetches only the spans of the file. A zTOC
// whose span digest lies, and one whose checkpoints disagree with max_span_id, are caught with
// what and where.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildSociIndexes, inspectImage, verifyImage } from '../../../src/core/jobs/index.js';
import { openLazyLayer, type SociLayer } from '../../../src/core/lazy/index.js';
import { cleanEntryName } from '../../../src/core/tar/index.js';
import { imageReportView } from '../../../src/extension/reports/imageReport.js';
import { FileTree } from '../../../src/extension/tree/FileTree.js';
import { MediaType, readBlob, sha256, writeImage, type Descriptor, type ImageManifest, type OciLayoutStore } from '../../../src/core/oci/index.js';
import { goManifest } from '../../../src/core/soci/goJson.js';
import { INDEX_DIGEST_ANNOTATION, sociIndexManifest } from '../../../src/core/soci/manifest.js';
import { decodeZtoc, encodeZtoc, type Ztoc } from '../../../src/core/soci/ztoc.js';
import { tempLayout } from '../../helpers/images.js';
import { makeTar } from '../estargz/helpers.js';
import { catBytes } from '../helpers/cat.js';

const SPAN = 1024 * 1024;

describe('SOCI images read back', () => {
  let store: OciLayoutStore;
  let tar: Buffer;
  let ztoc: Ztoc;
  let ztocDescriptor: Descriptor;
  let layer: Descriptor;

  before(async () => {
    store = await tempLayout('lazyimg-soci-verify-');
    tar = (await makeTar('big', '12'))!;
    await writeImage(store, [{ tar }], { tag: 'src', gzipLevel: 6 });
    const result = await buildSociIndexes(store, 'src', store, 'soci', { spanSize: SPAN, minLayerSize: 0 });
    const doc = await store.getManifest(result.indexes[0]!.manifest);
    if (doc.kind !== 'manifest') throw new Error('not a manifest');
    layer = doc.manifest.layers[0]!;
    const index = await store.getManifest(result.indexes[0]!.index);
    if (index.kind !== 'manifest') throw new Error('not a manifest');
    ztocDescriptor = index.manifest.layers[0]!;
    ztoc = decodeZtoc(await readBlob(store, ztocDescriptor, 1 << 30), 'ztoc');
    assert.ok(ztoc.maxSpanId >= 4, `${ztoc.maxSpanId + 1} spans`);
  });

  after(async () => {
    await rm(store.dir, { recursive: true, force: true });
  });

  /** The image again, under `tag`, with its SOCI index pointing at `changed` instead of the real zTOC. */
  async function withZtoc(changed: Ztoc, tag: string): Promise<void> {
    const bytes = encodeZtoc(changed);
    const descriptor = { mediaType: 'application/octet-stream', digest: sha256(bytes), size: bytes.length };
    await store.putBlob(descriptor, async () => Readable.from([bytes]));
    const index = await store.putManifest(sociIndexManifest('v2', [{ ztoc: descriptor, layer, spanSize: SPAN }]), MediaType.OciManifest);
    const src = await store.getManifest(await store.resolve('src'));
    const manifest = (src as { manifest: ImageManifest }).manifest;
    await store.putManifest(goManifest({ ...manifest, annotations: { [INDEX_DIGEST_ANNOTATION]: index.digest } }), MediaType.OciManifest, tag);
  }

  it('verify finds the index as the snapshotter does and checks every span', async () => {
    const report = await verifyImage(store, 'soci');
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.soci.length, 1);
    assert.deepEqual(report.soci[0]!.problems, []);
    const soci = report.layers[0]!.soci!;
    assert.equal(soci.lazy, true);
    assert.equal(soci.spans, ztoc.maxSpanId + 1);
    assert.equal(soci.spansVerified, soci.spans);
    // The zTOC is checked as a blob, not taken for an image layer.
    assert.equal(report.layers.length, 1);
    const [row] = imageReportView(await inspectImage(store, 'soci', 'oci:x'), { reference: 'oci:x', ...report }, () => undefined).platforms[0]!.layers;
    assert.deepEqual([row!.state, row!.formats, row!.ztoc], ['soci', ['SOCI v2'], { files: soci.files, pieces: soci.spans, piecesVerified: soci.spans, ok: true, details: [] }]);
    const quick = await verifyImage(store, 'soci', { quick: true });
    assert.equal(quick.layers[0]!.soci!.spansVerified, 0);
  });

  /** A small file inside one span past the first. */
  const smallFile = (): Ztoc['entries'][number] => {
    const file = ztoc.entries.find((e) => e.type === 'reg' && e.uncompressedSize > 1000 && e.uncompressedSize < SPAN / 4 && e.uncompressedOffset > 2 * SPAN
      && Math.floor(e.uncompressedOffset / SPAN) === Math.floor((e.uncompressedOffset + e.uncompressedSize) / SPAN));
    assert.ok(file, 'the layer has a small file inside one span');
    return file;
  };

  it('inspect lists the index on the image and the zTOC on the layer, and the index as an artifact', async () => {
    const r = await inspectImage(store, 'soci', 'oci:x');
    const [image, index] = r.manifests;
    assert.equal(image!.soci?.[0]?.version, 'v2');
    assert.equal(image!.soci?.[0]?.ztocs, 1);
    assert.match(image!.layers[0]!.soci?.ztoc ?? '', /^sha256:/);
    assert.equal(index!.artifactType, 'application/vnd.amazon.soci.index.v2+json');
    assert.equal(index!.soci, undefined);
  });

  it('cat reads a file through its spans only, the same bytes as the tar', async () => {
    const file = smallFile();
    const r = await catBytes(store, 'soci', `/${file.name}`);
    assert.ok(r.bytes.equals(tar.subarray(file.uncompressedOffset, file.uncompressedOffset + file.uncompressedSize)));
    assert.equal(r.via, 'soci');
    assert.equal(r.spans!.length, 1);
    assert.ok(r.fetched < layer.size / 2, `fetched ${r.fetched} of ${layer.size}`);
  });

  it('the zTOC as folders gives each file the spans reading it fetches, and reading it fetches only those', async () => {
    const lazy = await openLazyLayer(store, layer, { via: 'soci', ztoc: ztocDescriptor }, 'layer') as SociLayer;
    const table = lazy.spans;
    const tree = new FileTree(lazy);
    const files = ztoc.entries.filter((e) => e.type === 'reg');
    const wide = files.find((e) => table.spanOf(e.uncompressedOffset) < table.spanOf(e.uncompressedOffset + e.uncompressedSize - 1))!;
    assert.ok(wide, 'some file crosses a span boundary');
    const item = tree.get(cleanEntryName(wide.name))!;
    assert.ok(item.spans![1] > item.spans![0], JSON.stringify(item.spans));
    const read = await lazy.read(wide.name);
    assert.ok(read.bytes.equals(tar.subarray(wide.uncompressedOffset, wide.uncompressedOffset + wide.uncompressedSize)));
    assert.deepEqual(read.spans, Array.from({ length: item.spans![1] - item.spans![0] + 1 }, (_, i) => item.spans![0] + i));
    assert.equal(read.fetched, table.spans[item.spans![1]]!.end - table.spans[item.spans![0]]!.start, 'one range, from the first span to the end of the last');
    const empty = files.find((e) => e.uncompressedSize === 0);
    if (empty) assert.equal(tree.get(cleanEntryName(empty.name))?.spans, undefined);
    const top = tree.children('');
    assert.ok(top.length > 0 && top.every((name, i) => i === 0 || tree.get(top[i - 1]!)?.type === 'dir' || tree.get(name)?.type !== 'dir'), 'directories first');
  });

  it('a span digest that lies fails verify and the read, naming the span', async () => {
    const file = smallFile();
    const { spans } = await catBytes(store, 'soci', `/${file.name}`);
    const id = spans![0]!;
    const spanDigests = [...ztoc.spanDigests];
    spanDigests[id] = `sha256:${'0'.repeat(64)}`;
    await withZtoc({ ...ztoc, spanDigests }, 'lying');
    const report = await verifyImage(store, 'lying');
    assert.equal(report.ok, false);
    assert.match(report.layers[0]!.soci!.problems.join('\n'), new RegExp(`span ${id} \\(bytes \\d+-\\d+\\) has digest sha256:[0-9a-f]{64}, but the zTOC says sha256:0{64}`));
    await assert.rejects(catBytes(store, 'lying', `/${file.name}`), new RegExp(`span ${id} .* has digest .* but the zTOC says sha256:0{64}`));
  });

  it('a zTOC whose checkpoint count disagrees with max_span_id is refused at "mount"', async () => {
    await withZtoc({ ...ztoc, maxSpanId: ztoc.maxSpanId + 1, spanDigests: [...ztoc.spanDigests, ztoc.spanDigests[0]!] }, 'miscounted');
    const report = await verifyImage(store, 'miscounted', { quick: true });
    assert.match(report.layers[0]!.soci!.problems.join('\n'), /the zTOC has \d+ checkpoints for max_span_id \d+/);
    await assert.rejects(catBytes(store, 'miscounted', '/data/f00001'), /checkpoints for max_span_id/);
  });

  it('names with .. are refused', async () => {
    await withZtoc({ ...ztoc, entries: ztoc.entries.map((e, i) => (i === 3 ? { ...e, name: '../../etc/passwd' } : e)) }, 'climbing');
    const report = await verifyImage(store, 'climbing', { quick: true });
    assert.match(report.layers[0]!.soci!.problems.join('\n'), /entry 3 named "\.\.\/\.\.\/etc\/passwd", which climbs out of the root/);
  });
});
