// The image report's data from real images: inspect's laziness for the table, verify for what was
// checked, the lazy reads recorded for what was fetched; and the findings with their actions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertImage, inspectImage, verifyImage } from '../../../src/core/jobs/index.js';
import { writeImage } from '../../../src/core/oci/index.js';
import { LazyReads } from '../../../src/extension/browse/LazyReads.js';
import { imageReportView } from '../../../src/extension/reports/imageReport.js';
import { tempLayout } from '../../helpers/images.js';
import { makeTar } from '../estargz/helpers.js';

describe('image report data', () => {
  it('says what inspect says before verification, then what verify found, and what reads fetched', async () => {
    const store = await tempLayout();
    await writeImage(store, [{ tar: await makeTar('plain') }, { tar: await makeTar('empty') }], { tag: 'v1' });
    await convertImage(store, 'v1', store, 'v1-esgz');

    const plain = imageReportView(await inspectImage(store, 'v1', 'oci:x:v1'), undefined, () => undefined);
    const [section] = plain.platforms;
    assert.deepEqual(section!.layers.map((l) => [l.state, l.formats, l.uncompressedSize]), [['none', [], undefined], ['none', [], undefined]]);
    assert.match(section!.verdict, /^Not lazy/);
    assert.deepEqual(section!.findings.map((f) => [f.text, f.actions]), [1, 2].map((n) => [`Layer ${n}: no eStargz TOC and no SOCI zTOC: pulled whole.`, ['convert', 'index']]));
    assert.equal(plain.verification, undefined);
    assert.deepEqual(plain.findings.map((f) => f.actions), [['verify', 'verifyDeep']]);

    const inspected = await inspectImage(store, 'v1-esgz', 'oci:x:v1-esgz');
    const verified = { reference: 'oci:x:v1-esgz', ...(await verifyImage(store, 'v1-esgz')) };
    const reads = new LazyReads();
    const heard: string[] = [];
    reads.onRecord((_, digest) => heard.push(digest));
    const first = inspected.manifests[0]!.layers[0]!;
    reads.record(store.name, first.digest, 100);
    reads.record(store.name, first.digest, 50);
    reads.record('elsewhere', first.digest, 7);
    const ready = imageReportView(inspected, verified, (d) => reads.get(store.name, d));
    const layers = ready.platforms[0]!.layers;
    assert.deepEqual(layers.map((l) => [l.state, l.formats]), [['estargz', ['eStargz']], ['estargz', ['eStargz']]]);
    assert.equal(layers[0]!.uncompressedSize, first.lazy!.uncompressedSize);
    assert.ok(layers.every((l) => l.toc?.ok && l.toc.piecesVerified === l.toc.pieces) && layers[0]!.toc!.files > 0, JSON.stringify(layers));
    assert.deepEqual(layers.map((l) => l.fetched), [{ bytes: 150, reads: 2 }, undefined]);
    assert.equal(heard.length, 3);
    assert.match(ready.platforms[0]!.verdict, /^Lazy: all 2 layers/);
    assert.deepEqual(ready.verification, { ok: true, deep: false, blobs: verified.blobs, bytes: verified.bytes, stale: false });
    assert.deepEqual(ready.findings, []);

    // A verification of the image the tag named before says nothing about this one.
    const moved = imageReportView(inspected, { ...verified, digest: inspected.manifests[0]!.config.digest }, () => undefined);
    assert.equal(moved.verification?.stale, true);
    assert.equal(moved.platforms[0]!.layers[0]!.toc, undefined);
    assert.deepEqual(moved.findings.map((f) => f.actions), [['verify', 'verifyDeep']]);
  });

  it('marks a layer whose TOC fails verification broken, with its problem and the action that fixes it', async () => {
    const store = await tempLayout();
    await writeImage(store, [{ tar: await makeTar('plain') }], { tag: 'v1' });
    await convertImage(store, 'v1', store, 'v1-esgz');
    const inspected = await inspectImage(store, 'v1-esgz', 'oci:x');
    const verified = { reference: 'oci:x', ...(await verifyImage(store, 'v1-esgz')) };
    const layer = verified.layers[0]!;
    const broken = { ...verified, ok: false, layers: [{ ...layer, lazy: { ...layer.lazy, lazy: false, problems: ['the TOC digest is <script>x</script>'] } }] };
    const view = imageReportView(inspected, broken, () => undefined);
    const section = view.platforms[0]!;
    assert.equal(section.layers[0]!.state, 'broken');
    assert.equal(section.layers[0]!.toc?.ok, false);
    assert.match(section.verdict, /^Not ready/);
    // The text stays as the image had it: the page draws it as text.
    assert.deepEqual(section.findings.filter((f) => f.level === 'problem'), [{ level: 'problem', text: 'Layer 1 (eStargz): the TOC digest is <script>x</script>', actions: ['convert'] }]);
  });
});
