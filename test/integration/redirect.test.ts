// Blob downloads that a real registry redirects to another host (its `redirect` storage
// middleware, as S3- or CDN-backed registries do): the content arrives, Range reads follow the
// redirect, and the registry's credentials never reach the other host.
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { join, normalize } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyImage } from '../../src/core/jobs/index.js';
import { Stores } from '../../src/core/image/index.js';
import { parseReference, type Descriptor } from '../../src/core/oci/index.js';
import { sampleLayout, tempLayout } from '../helpers/images.js';
import { startFakeServer, type FakeServer } from './fixtures/fakeServer.js';
import { credentialsFor, startRegistry, type RegistryAuth, type RegistryFixture } from './fixtures/registry.js';

for (const auth of ['basic', 'token'] as RegistryAuth[]) {
  describe(`blob redirects to another host, auth=${auth}`, () => {
    let registry: RegistryFixture;
    let files: FakeServer;
    let stores: Stores;
    let root = '';
    const seen: IncomingHttpHeaders[] = [];

    before(async () => {
      // A storage host serving the registry's files, honouring single byte ranges.
      files = await startFakeServer((req, res) => {
        seen.push(req.headers);
        const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
        if (!root || !path.startsWith(root)) return void res.writeHead(404).end();
        stat(path).then((info) => {
          const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
          if (!range) {
            res.writeHead(200, { 'content-length': info.size });
            createReadStream(path).pipe(res);
            return;
          }
          const [start, end] = [Number(range[1]), Number(range[2])];
          res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${info.size}` });
          createReadStream(path, { start, end }).pipe(res);
        }, () => res.writeHead(404).end());
      });
      // `localhost` and `127.0.0.1` are different origins: the redirect crosses hosts.
      registry = await startRegistry({ auth, redirectBlobsTo: `http://localhost:${files.host.split(':')[1]}/` });
      root = registry.storage;
      stores = new Stores({ credentials: credentialsFor(registry) });
    });
    after(async () => {
      await stores.close();
      await registry.stop();
      await files.close();
    });

    it('downloads redirected blobs without sending Authorization to the storage host', async () => {
      const source = await sampleLayout();
      const remote = await stores.open(parseReference(`${registry.host}/redirect/app:v1`));
      const up = await copyImage(source, 'sample', remote, 'v1');
      const back = await tempLayout();
      const down = await copyImage(remote, 'v1', back, 'v1');
      assert.equal(down.descriptor.digest, up.descriptor.digest);
      assert.equal(down.blobs.uploaded, 4);
      assert.ok(seen.length >= 4, `the storage host served ${seen.length} requests`);
      assert.ok(seen.every((h) => h.authorization === undefined), 'Authorization leaked to the storage host');

      const doc = await remote.getManifest(up.descriptor);
      if (doc.kind !== 'manifest') throw new Error('expected a manifest');
      const layer = doc.manifest.layers[1] as Descriptor;
      const whole = await readFile(join(source.dir, 'blobs', 'sha256', layer.digest.slice(7)));
      const before = seen.length;
      const part = await remote.readBlobRange(layer, 1000, 5000);
      assert.ok(part.equals(whole.subarray(1000, 6000)));
      assert.equal(seen.length, before + 1);
      assert.equal(seen.at(-1)?.range, 'bytes=1000-5999');
      assert.equal(seen.at(-1)?.authorization, undefined);
    });
  });
}
