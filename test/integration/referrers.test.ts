// Referrers on registries without the referrers API (distribution 2.8 and 3): pushing a manifest
// with a subject maintains the `sha256-<hex>` fallback index, and lookups find it there.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { copyImage } from '../../src/core/jobs/index.js';
import { Stores } from '../../src/core/image/index.js';
import { MediaType, parseReference, sha256, type Descriptor, type ImageManifest, type ImageStore } from '../../src/core/oci/index.js';
import { referrersTag } from '../../src/core/registry/index.js';
import { sampleLayout } from '../helpers/images.js';
import { requireTool } from '../helpers/tools.js';
import { credentialsFor, startRegistry, type RegistryAuth, type RegistryFixture, type RegistryFlavor } from './fixtures/registry.js';

const run = promisify(execFile);

/** Pushes a small artifact (an "SBOM") whose subject is `subject`, as oras or cosign would. */
async function pushArtifact(store: ImageStore, subject: Descriptor, artifactType: string, text: string): Promise<Descriptor> {
  const empty = Buffer.from('{}');
  const emptyDescriptor: Descriptor = { mediaType: MediaType.OciEmpty, digest: sha256(empty), size: 2 };
  const body = Buffer.from(text);
  const layer: Descriptor = { mediaType: 'text/plain', digest: sha256(body), size: body.length };
  await store.putBlob(emptyDescriptor, async () => Readable.from([empty]));
  await store.putBlob(layer, async () => Readable.from([body]));
  const manifest: ImageManifest = {
    schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType, config: emptyDescriptor, layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'org.example.note': text },
  };
  return store.putManifest(Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest);
}

const setups: Array<[RegistryFlavor, RegistryAuth]> = [['2.8', 'none'], ['2.8', 'basic'], ['2.8', 'token'], ['3', 'none']];

for (const [flavor, auth] of setups) {
  describe(`referrers on distribution ${flavor}, auth=${auth}`, () => {
    let registry: RegistryFixture;
    let stores: Stores;

    before(async () => {
      registry = await startRegistry({ flavor, auth });
      stores = new Stores({ credentials: credentialsFor(registry) });
    });
    after(async () => {
      await stores.close();
      await registry.stop();
    });

    it('finds artifacts pushed with a subject through the fallback tag schema', async () => {
      const store = await stores.open(parseReference(`${registry.host}/refs/app:v1`));
      const { descriptor: image } = await copyImage(await sampleLayout(64 * 1024), 'sample', store, 'v1');
      assert.deepEqual(await store.referrers(image.digest), []);

      const sbom = await pushArtifact(store, image, 'application/vnd.example.sbom+json', 'sbom');
      const sig = await pushArtifact(store, image, 'application/vnd.example.signature', 'signature');
      const all = await store.referrers(image.digest);
      assert.deepEqual(all.map((d) => d.digest).sort(), [sbom.digest, sig.digest].sort());
      const onlySbom = await store.referrers(image.digest, 'application/vnd.example.sbom+json');
      assert.deepEqual(onlySbom.map((d) => [d.digest, d.artifactType, d.annotations?.['org.example.note']]), [[sbom.digest, 'application/vnd.example.sbom+json', 'sbom']]);

      // The fallback index is an ordinary tag other tools can read.
      const tag = referrersTag(image.digest);
      assert.equal(tag, `sha256-${image.digest.slice(7)}`);
      const creds = auth === 'none' ? [] : ['--creds', `${registry.username}:${registry.password}`];
      const raw = await run(requireTool('skopeo', 'apt-get install skopeo'), ['inspect', '--raw', '--tls-verify=false', ...creds, `docker://${registry.host}/refs/app:${tag}`]);
      const index = JSON.parse(raw.stdout) as { mediaType: string; manifests: Descriptor[] };
      assert.equal(index.mediaType, MediaType.OciIndex);
      assert.equal(index.manifests.length, 2);

      // Pushing the same artifact again does not list it twice.
      await pushArtifact(store, image, 'application/vnd.example.sbom+json', 'sbom');
      assert.equal((await store.referrers(image.digest)).length, 2);
    });
  });
}
