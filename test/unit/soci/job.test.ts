// The SOCI index job between two layouts on disk: layers are copied by the kernel while they are
// indexed, a layer whose bytes are not its digest leaves nothing behind in the destination, a
// cancellation at any moment is answered as one, and the layout lists the new image, not its parts.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { imageLaziness, listImages } from '../../../src/core/image/index.js';
import { buildSociIndexes, sociDestination, type ProgressEvent } from '../../../src/core/jobs/index.js';
import { formatReference, parseDigest, parseReference, writeImage, type CallOptions, type Descriptor, type OciLayoutStore } from '../../../src/core/oci/index.js';
import { tempLayout } from '../../helpers/images.js';
import { makeTar } from '../estargz/helpers.js';

describe('SOCI index job between layouts', () => {
  let source: OciLayoutStore;
  let layers: Descriptor[];
  const destinations: OciLayoutStore[] = [];

  before(async () => {
    source = await tempLayout('lazyimg-soci-job-');
    await writeImage(source, [{ tar: (await makeTar('big', '4'))! }, { tar: (await makeTar('edge'))! }], { tag: 'src', gzipLevel: 6 });
    const image = await source.getManifest(await source.resolve('src'));
    assert.equal(image.kind, 'manifest');
    layers = image.kind === 'manifest' ? image.manifest.layers : [];
  });
  after(async () => {
    for (const store of [source, ...destinations]) await rm(store.dir, { recursive: true, force: true });
  });
  const blobFile = (store: OciLayoutStore, d: Descriptor): string => join(store.dir, 'blobs', 'sha256', parseDigest(d.digest).hex);

  it('copies every layer into the new layout, byte for byte, beside the zTOCs', async () => {
    const destination = await tempLayout('lazyimg-soci-job-dst-');
    destinations.push(destination);
    const result = await buildSociIndexes(source, 'src', destination, 'soci', { spanSize: 256 * 1024, minLayerSize: 0 });
    assert.equal(result.indexes[0]!.layers.filter((l) => l.ztoc).length, 2);
    for (const layer of layers) assert.ok((await readFile(blobFile(destination, layer))).equals(await readFile(blobFile(source, layer))), layer.digest);
    // What the tree lists: the SOCI-enabled image and the source image copied beside it, not the
    // rewritten platform manifest nor the SOCI index, which show under the image.
    const listed = (await listImages(destination)).map((d) => d.digest);
    const { manifests } = await destination.readIndex();
    assert.equal(manifests.length, 4, JSON.stringify(manifests));
    assert.deepEqual(listed.sort(), [result.image.digest, (await source.resolve('src')).digest].sort());
  });

  it('refuses a layer whose bytes are not its digest, and stores none of it', async () => {
    const bad = layers[0]!;
    const original = await readFile(blobFile(source, bad));
    const changed = Buffer.from(original);
    changed[changed.length - 20]! ^= 0xff;
    await writeFile(blobFile(source, bad), changed);
    try {
      const destination = await tempLayout('lazyimg-soci-job-dst-');
      destinations.push(destination);
      await assert.rejects(buildSociIndexes(source, 'src', destination, 'soci', { spanSize: 256 * 1024, minLayerSize: 0 }), (e: Error & { code?: string }) => {
        assert.ok(e.code === 'DIGEST_MISMATCH' || e.code === 'INVALID_FORMAT', `${e.code}: ${e.message}`);
        return true;
      });
      assert.equal(await destination.hasBlob(bad), false);
      assert.deepEqual((await readdir(destination.dir)).filter((f) => !['blobs', 'oci-layout', 'index.json'].includes(f)), [], 'no temporary file left');
    } finally {
      await writeFile(blobFile(source, bad), original);
    }
  });

  it('is seen by the Dockerfile layer map: a v2 index through the manifest, a v1 index through the referrers', async () => {
    const v2 = await tempLayout('lazyimg-soci-job-dst-');
    destinations.push(v2);
    const built = await buildSociIndexes(source, 'src', v2, 'soci', { spanSize: 256 * 1024, minLayerSize: 0 });
    const seen = await imageLaziness(v2, 'soci');
    assert.deepEqual(seen.sociIndexes.map((f) => [f.digest, f.index?.version]), [[built.indexes[0]!.index.digest, 'v2']]);
    assert.deepEqual(seen.layers.map((l) => l.soci?.version), ['v2', 'v2']);
    const v1 = await tempLayout('lazyimg-soci-job-dst-');
    destinations.push(v1);
    const attached = await buildSociIndexes(source, 'src', v1, 'src', { version: 'v1', spanSize: 256 * 1024, minLayerSize: 0 });
    const seen1 = await imageLaziness(v1, 'src');
    assert.deepEqual(seen1.sociIndexes.map((f) => [f.digest, f.index?.version]), [[attached.indexes[0]!.index.digest, 'v1']]);
    assert.deepEqual(seen1.layers.map((l) => l.soci?.version), ['v1', 'v1']);
  });

  it('finishes when the destination gets a layer from another writer between hasBlob and putBlob', async () => {
    const store = await tempLayout('lazyimg-soci-job-dst-');
    destinations.push(store);
    // As a registry, or a layout read through one: no file to adopt, so the layer is read once
    // for the index and for the store. Each layer arrives "from another writer" as it is asked for.
    const racing = new Proxy(store, {
      get(target, key) {
        if (key === 'adoptBlobFile') return undefined;
        if (key === 'hasBlob') {
          return async (d: Descriptor) => {
            const had = await target.hasBlob(d);
            await target.putBlob(d, () => source.getBlob(d));
            return had;
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const result = await within(20_000, buildSociIndexes(source, 'src', racing, 'soci', { spanSize: 256 * 1024, minLayerSize: 0 }));
    assert.equal(result.indexes[0]!.layers.filter((l) => l.ztoc).length, 2);
    for (const layer of layers) assert.equal(await store.hasBlob(layer), true);
  });

  it('answers a cancellation with CANCELLED whenever it comes, and leaves no manifest and no temporary file', async () => {
    // The moments a layer goes through. A cancellation between opening a layer and reading it used
    // to destroy the layer's stream with no one listening: its error ended the process instead.
    const moments = ['plan', 'hasBlob', 'blobFile', 'getBlob', 'read'] as const;
    for (const adopt of [true, false]) {
      for (const moment of moments) {
        const destination = await tempLayout('lazyimg-soci-job-dst-');
        destinations.push(destination);
        const controller = new AbortController();
        const at = (now: string) => <T>(value: T): T => {
          if (now === moment) controller.abort();
          return value;
        };
        const from = intercept(source, {
          blobFile: (d: Descriptor) => source.blobFile(d).then(at('blobFile')),
          getBlob: (d: Descriptor, o?: CallOptions) => source.getBlob(d, o).then(at('getBlob')),
        });
        // Without adoptBlobFile (as a registry), one read of each layer both indexes and stores it.
        const to = intercept(destination, { hasBlob: (d: Descriptor) => destination.hasBlob(d).then(at('hasBlob')), ...(adopt ? {} : { adoptBlobFile: undefined }) });
        const onProgress = (e: ProgressEvent): void => void at(e.kind === 'plan' ? 'plan' : e.done > 0 ? 'read' : '')(e);
        await assert.rejects(buildSociIndexes(from, 'src', to, 'soci', { spanSize: 256 * 1024, minLayerSize: 0, signal: controller.signal, onProgress }), { code: 'CANCELLED' }, `cancelled at ${moment}`);
        assert.deepEqual((await destination.readIndex()).manifests, [], `cancelled at ${moment}`);
        assert.deepEqual((await readdir(destination.dir)).filter((f) => !['blobs', 'oci-layout', 'index.json'].includes(f)), [], `cancelled at ${moment}: no temporary file left`);
      }
    }
  });

  it('writes v2 beside the source as <tag>-soci and v1 onto the source, and refuses a v2 destination by digest', () => {
    const src = parseReference('oci:/x/app:v1');
    assert.equal(formatReference(sociDestination(src, undefined, 'v2')), 'oci:/x/app:v1-soci');
    assert.equal(formatReference(sociDestination(src, undefined, 'v1')), 'oci:/x/app:v1');
    assert.equal(formatReference(sociDestination(src, parseReference('oci:/y:lazy'), 'v2')), 'oci:/y:lazy');
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.throws(() => sociDestination(src, parseReference(`oci:/y@${digest}`), 'v2'), { code: 'INVALID_ARGUMENT', message: /the SOCI-enabled image is a new index, so the destination needs a tag, not a digest/ });
    assert.throws(() => sociDestination(parseReference(`oci:/x/app@${digest}`), undefined, 'v2'), { code: 'INVALID_ARGUMENT', message: /it has no tag, so give one/ });
  });
});

/** `store` with some of its methods replaced. */
function intercept(store: OciLayoutStore, overrides: Partial<Record<keyof OciLayoutStore, unknown>>): OciLayoutStore {
  return new Proxy(store, {
    get(target, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof OciLayoutStore];
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `work`, or a failure if it has not settled after `ms`: a stalled stream never settles. */
async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
