// laziness(): which layers a remote snapshotter mounts lazily, from manifests alone, on images
// made lazy each way: eStargz, SOCI v2, SOCI v1, both on one image, part of an image, and not at
// all; and what it says when an index is missing or would be refused.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { describeLaziness, imageLaziness, preferredSnapshotter, resolveImage, summarizeLaziness } from '../../../src/core/image/index.js';
import { buildSociIndexes, convertImage } from '../../../src/core/jobs/index.js';
import { MediaType, writeImage, type ImageManifest, type OciLayoutStore } from '../../../src/core/oci/index.js';
import { goManifest, INDEX_DIGEST_ANNOTATION, sociIndexManifest } from '../../../src/core/soci/index.js';
import { tempLayout } from '../../helpers/images.js';

const SPAN = 1024 * 1024;
const file = (name: string, content: Buffer) => ({ name, type: 'file' as const, content });

describe('laziness()', () => {
  let store: OciLayoutStore;

  before(async () => {
    store = await tempLayout('lazyimg-laziness-');
    // One small layer and one over SOCI's 10 MiB minimum (random bytes do not compress).
    await writeImage(store, [
      { entries: [file('etc/small', Buffer.from('small\n'))] },
      { entries: [file('data/big.bin', randomBytes(11 * 1024 * 1024))] },
    ], { tag: 'plain' });
    await writeImage(store, [{ entries: [file('a', randomBytes(64 * 1024))] }, { entries: [file('b', randomBytes(64 * 1024))] }], { tag: 'other' });
    await convertImage(store, 'plain', store, 'esgz');
    await buildSociIndexes(store, 'plain', store, 'soci', { spanSize: SPAN });
    await buildSociIndexes(store, 'esgz', store, 'both', { spanSize: SPAN, minLayerSize: 0 });
    await buildSociIndexes(store, 'other', store, 'other', { version: 'v1', spanSize: SPAN, minLayerSize: 0 });
  });
  after(async () => {
    await rm(store.dir, { recursive: true, force: true });
  });

  it('none: no eStargz annotation and no SOCI index', async () => {
    const lazy = await imageLaziness(store, 'plain');
    assert.deepEqual(lazy.sociIndexes, []);
    assert.deepEqual(lazy.layers.map((l) => [l.index, l.estargz, l.soci, l.reason]), [
      [1, undefined, undefined, 'no eStargz TOC annotation and no SOCI index: pulled whole'],
      [2, undefined, undefined, 'no eStargz TOC annotation and no SOCI index: pulled whole'],
    ]);
    assert.deepEqual(lazy.platform, { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(summarizeLaziness(lazy), { level: 'none', text: 'not lazy' });
    assert.equal(preferredSnapshotter(lazy), undefined, 'neither snapshotter would mount a layer lazily');
    assert.equal(lazy.config?.rootfs.diff_ids.length, 2);
  });

  it('eStargz: every layer, with the TOC digest and uncompressed size of its annotations', async () => {
    const lazy = await imageLaziness(store, 'esgz');
    assert.ok(lazy.layers.every((l) => /^sha256:[0-9a-f]{64}$/.test(l.estargz?.tocDigest ?? '') && (l.estargz?.uncompressedSize ?? 0) > 0 && !l.soci && !l.reason));
    assert.deepEqual(lazy.layers.map(describeLaziness), ['lazy (eStargz)', 'lazy (eStargz)']);
    assert.deepEqual(summarizeLaziness(lazy), { level: 'lazy', text: 'eStargz' });
    assert.equal(preferredSnapshotter(lazy), 'stargz');
  });

  it('SOCI v2, part of the image: the big layer through its zTOC, the small one under the minimum', async () => {
    const lazy = await imageLaziness(store, 'soci');
    assert.equal(lazy.sociIndexes.length, 1);
    const [found] = lazy.sociIndexes;
    assert.equal(found!.index?.version, 'v2');
    assert.equal(found!.error, undefined);
    const [small, big] = lazy.layers;
    assert.equal(small!.reason, 'under SOCI\'s 10 MiB minimum layer size: pulled whole');
    assert.equal(big!.soci?.version, 'v2');
    assert.equal(big!.soci?.index, found!.digest);
    assert.equal(big!.soci?.ztoc.digest, found!.index!.ztocs.get(big!.descriptor.digest)?.digest);
    assert.deepEqual(lazy.layers.map(describeLaziness), ['under SOCI\'s 10 MiB minimum layer size: pulled whole', 'lazy (SOCI v2)']);
    assert.deepEqual(summarizeLaziness(lazy), { level: 'partly', text: 'partly lazy (1/2 layers, SOCI v2)' });
    assert.equal(preferredSnapshotter(lazy), 'soci', 'one layer lazy through soci, none through stargz');
  });

  it('SOCI v1: the index found among the image manifest\'s referrers', async () => {
    const lazy = await imageLaziness(store, 'other');
    assert.deepEqual(lazy.sociIndexes.map((f) => f.index?.version), ['v1']);
    assert.deepEqual(lazy.layers.map((l) => l.soci?.version), ['v1', 'v1']);
    assert.deepEqual(summarizeLaziness(lazy), { level: 'lazy', text: 'SOCI v1' });
    assert.equal(preferredSnapshotter(lazy), 'soci');
  });

  it('eStargz and SOCI on one image: both, for each layer', async () => {
    const lazy = await imageLaziness(store, 'both');
    assert.deepEqual(lazy.layers.map(describeLaziness), ['lazy (eStargz, SOCI v2)', 'lazy (eStargz, SOCI v2)']);
    assert.equal(summarizeLaziness(lazy).text, 'eStargz, SOCI v2');
    assert.equal(preferredSnapshotter(lazy), 'stargz', 'a tie goes to stargz');
  });

  it('an index the manifest names but the store lacks, and one Go would serialize differently, make nothing lazy', async () => {
    const { image } = await resolveImage(store, 'soci', 'test');
    const missing = `sha256:${'0'.repeat(64)}`;
    await store.putManifest(goManifest({ ...image.manifest, annotations: { [INDEX_DIGEST_ANNOTATION]: missing } }), MediaType.OciManifest, 'missing');
    const lazy = await imageLaziness(store, 'missing');
    assert.deepEqual(lazy.sociIndexes, [{ digest: missing, error: 'named by the image but missing from the store' }]);
    assert.match(lazy.layers[1]!.reason ?? '', /^its SOCI index cannot be used \(named by the image but missing from the store\): pulled whole$/);

    const ztocs = (await imageLaziness(store, 'soci')).layers.flatMap((l) => (l.soci ? [{ ztoc: l.soci.ztoc, layer: l.descriptor, spanSize: SPAN }] : []));
    const pretty = Buffer.from(JSON.stringify(JSON.parse(sociIndexManifest('v2', ztocs).toString()), null, 2));
    const index = await store.putManifest(pretty, MediaType.OciManifest);
    const manifest: ImageManifest = { ...image.manifest, annotations: { [INDEX_DIGEST_ANNOTATION]: index.digest } };
    await store.putManifest(goManifest(manifest), MediaType.OciManifest, 'refused');
    const refused = await imageLaziness(store, 'refused');
    assert.match(refused.sociIndexes[0]!.error ?? '', /not what Go writes/);
    assert.equal(refused.sociIndexes[0]!.index?.version, 'v2', 'still read, for reports');
    assert.equal(refused.layers[1]!.soci, undefined);
  });
});
