// recordWrites: what a job stored, as a failure reports it; blobs that were there already are not
// the job's, and the store keeps working as itself (its own fields, its optional extras).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { OciLayoutStore } from '../../src/core/oci/layout.js';
import { MediaType } from '../../src/core/oci/mediaTypes.js';
import { recordWrites, type WrittenContent } from '../../src/core/oci/written.js';
import { blob, configBlob, manifestBytes } from './helpers/oci.js';
import { streamOf } from './helpers/streams.js';
import { useTempDirs } from './helpers/tmp.js';

const tempDir = useTempDirs('lazyimg-written-');

describe('recordWrites', () => {
  it('lists the blobs stored and the manifests written, not the blobs the store had', async () => {
    const inner = await OciLayoutStore.open(join(await tempDir(), 'layout'), { create: true });
    const had = blob('already there');
    await inner.putBlob(had.descriptor, async () => streamOf(had.bytes));
    const written: WrittenContent[] = [];
    const store = recordWrites(inner, written);
    assert.equal(store.name, inner.name);
    assert.equal(typeof store.blobFile, 'function');

    const layer = blob('a new layer', MediaType.OciLayerGzip);
    const config = configBlob();
    assert.equal(await store.putBlob(had.descriptor, async () => streamOf(had.bytes)), 'existed');
    assert.equal(await store.putBlob(layer.descriptor, async () => streamOf(layer.bytes)), 'uploaded');
    const file = join(await tempDir(), 'config');
    await writeFile(file, config.bytes);
    assert.equal(await store.adoptBlobFile!(config.descriptor, file), 'uploaded');
    const manifest = await store.putManifest(manifestBytes({ config: config.descriptor, layers: [layer.descriptor] }), MediaType.OciManifest, 'v1');

    assert.deepEqual(written, [
      { digest: layer.descriptor.digest, size: layer.descriptor.size, mediaType: MediaType.OciLayerGzip },
      { digest: config.descriptor.digest, size: config.descriptor.size, mediaType: MediaType.OciConfig },
      { digest: manifest.digest, size: manifest.size, mediaType: MediaType.OciManifest, tag: 'v1' },
    ]);
    assert.equal((await store.resolve('v1')).digest, manifest.digest, 'reads go to the store itself');
  });
});
