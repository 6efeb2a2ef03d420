// The registry client and the copy/inspect jobs against a real docker-registry, in each auth mode.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { copyImage, inspectImage } from '../../src/core/jobs/index.js';
import { Stores } from '../../src/core/image/index.js';
import { OciLayoutStore, parseReference, type Descriptor } from '../../src/core/oci/index.js';
import { RegistryClient, RegistryStore } from '../../src/core/registry/index.js';
import { multiPlatformLayout, sampleLayout, tempLayout } from '../helpers/images.js';
import { requireTool } from '../helpers/tools.js';
import { dockerConfigFor, runCli } from './fixtures/cli.js';
import { credentialsFor, startRegistry, type RegistryAuth, type RegistryFixture } from './fixtures/registry.js';

const skopeo = (): string => requireTool('skopeo', 'apt-get install skopeo');
// Async on purpose: the token server runs in this process and must keep answering skopeo.
const run = promisify(execFile);

for (const auth of ['none', 'basic', 'token'] as RegistryAuth[]) {
  describe(`registry with auth=${auth}`, () => {
    let registry: RegistryFixture;
    let stores: Stores;
    let source: OciLayoutStore;
    let dockerConfig: string;

    before(async () => {
      registry = await startRegistry({ auth });
      stores = new Stores({ credentials: credentialsFor(registry) });
      source = await sampleLayout();
      dockerConfig = await dockerConfigFor(registry.host, registry.username, registry.password);
    });
    after(async () => {
      await stores.close();
      await registry.stop();
    });

    it('copies an OCI layout to the registry and back with the same digests', async () => {
      const remote = await stores.open(parseReference(`${registry.host}/roundtrip/app:v1`));
      const up = await copyImage(source, 'sample', remote, 'v1');
      assert.deepEqual(up.blobs, { uploaded: 4, existed: 0, mounted: 0 });
      const back = await tempLayout();
      const down = await copyImage(remote, 'v1', back, 'v1');
      assert.equal(down.descriptor.digest, up.descriptor.digest);
      assert.equal((await back.resolve('v1')).digest, (await source.resolve('sample')).digest);
      // Every blob came back bit for bit.
      const manifest = await back.getManifest(up.descriptor.digest);
      assert.equal(manifest.kind, 'manifest');
      if (manifest.kind !== 'manifest') return;
      for (const layer of [manifest.manifest.config, ...manifest.manifest.layers]) {
        const hex = layer.digest.slice('sha256:'.length);
        const [a, b] = await Promise.all([readFile(`${source.dir}/blobs/sha256/${hex}`), readFile(`${back.dir}/blobs/sha256/${hex}`)]);
        assert.ok(a.equals(b), `blob ${layer.digest} differs`);
      }
      // A second copy sends nothing: every blob is already there.
      const again = await copyImage(source, 'sample', remote, 'v1');
      assert.deepEqual(again.blobs, { uploaded: 0, existed: 4, mounted: 0 });
    });

    it('mounts blobs across repositories of the same registry instead of uploading them', async () => {
      const first = await stores.open(parseReference(`${registry.host}/mount/a:v1`));
      await copyImage(source, 'sample', first, 'v1');
      const second = await stores.open(parseReference(`${registry.host}/mount/b:v1`));
      const result = await copyImage(first, 'v1', second, 'v1');
      assert.deepEqual(result.blobs, { uploaded: 0, existed: 0, mounted: 4 });
      assert.equal(result.bytesUploaded, 0);
    });

    it('inspect --json agrees with skopeo inspect --raw', async () => {
      const remote = await stores.open(parseReference(`${registry.host}/inspect/app:v1`));
      await copyImage(source, 'sample', remote, 'v1');
      const ref = `${registry.host}/inspect/app:v1`;
      const creds = auth === 'none' ? [] : ['--creds', `${registry.username}:${registry.password}`];
      const raw = (await run(skopeo(), ['inspect', '--raw', '--tls-verify=false', ...creds, `docker://${ref}`], { encoding: 'buffer' })).stdout;
      const ours = await runCli(['inspect', '--raw', ref], { DOCKER_CONFIG: dockerConfig });
      assert.equal(ours.code, 0, ours.stderr);
      assert.equal(ours.stdout, raw.toString(), 'raw manifest bytes differ');
      const json = await runCli(['inspect', '--json', ref], { DOCKER_CONFIG: dockerConfig });
      assert.equal(json.code, 0, json.stderr);
      const result = JSON.parse(json.stdout) as { digest: string; mediaType: string; manifests: Array<{ config: Descriptor; layers: Descriptor[]; platform: unknown }> };
      const skopeoManifest = JSON.parse(raw.toString()) as { mediaType: string; config: Descriptor; layers: Descriptor[] };
      assert.equal(result.digest, `sha256:${createHash('sha256').update(raw).digest('hex')}`);
      assert.equal(result.mediaType, skopeoManifest.mediaType);
      assert.equal(result.manifests.length, 1);
      assert.equal(result.manifests[0]?.config.digest, skopeoManifest.config.digest);
      assert.deepEqual(result.manifests[0]?.layers.map((l) => [l.digest, l.size, l.mediaType]), skopeoManifest.layers.map((l) => [l.digest, l.size, l.mediaType]));
      assert.deepEqual(result.manifests[0]?.platform, { os: 'linux', architecture: 'amd64' });
    });

    it('reads exactly the requested byte range of a blob', async () => {
      const remote = await stores.open(parseReference(`${registry.host}/range/app:v1`));
      await copyImage(source, 'sample', remote, 'v1');
      const doc = await remote.getManifest(await remote.resolve('v1'));
      assert.equal(doc.kind, 'manifest');
      if (doc.kind !== 'manifest') return;
      const layer = doc.manifest.layers[1] as Descriptor;
      const whole = await readFile(`${source.dir}/blobs/sha256/${layer.digest.slice(7)}`);
      for (const [offset, length] of [[0, 1], [12345, 4096], [layer.size - 100, 100], [1, layer.size - 1]] as const) {
        const got = await remote.readBlobRange(layer, offset, length);
        assert.ok(got.equals(whole.subarray(offset, offset + length)), `range ${offset}+${length}`);
      }
      await assert.rejects(remote.readBlobRange(layer, layer.size - 10, 11), { code: 'INVALID_ARGUMENT' });
    });

    it('uploads a large blob in PATCH chunks and it reads back intact', async () => {
      const chunked = new RegistryClient(registry.host, {
        credentials: credentialsFor(registry),
        monolithicUploadMax: 512 * 1024,
        chunkSize: 700 * 1024,
      });
      try {
        const remote = new RegistryStore(chunked, 'chunked/app');
        const result = await copyImage(source, 'sample', remote, 'v1');
        assert.equal(result.blobs.uploaded, 4);
        const back = await tempLayout();
        const down = await copyImage(await stores.open(parseReference(`${registry.host}/chunked/app:v1`)), 'v1', back, 'v1');
        assert.equal(down.descriptor.digest, result.descriptor.digest);
      } finally {
        await chunked.close();
      }
    });

    it('copies every platform of an index with --all-platforms, or the requested one', async () => {
      const { store: multi, index } = await multiPlatformLayout();
      const remote = await stores.open(parseReference(`${registry.host}/multi/app:all`));
      const all = await copyImage(multi, 'multi', remote, 'all', { allPlatforms: true });
      assert.equal(all.descriptor.digest, index.digest);
      const inspected = await inspectImage(remote, 'all', 'x');
      assert.deepEqual(inspected.manifests.map((m) => m.platform?.architecture), ['amd64', 'arm64']);
      const one = await copyImage(multi, 'multi', remote, 'arm', { platform: { os: 'linux', architecture: 'arm64' } });
      assert.equal(one.descriptor.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      assert.equal((await remote.resolve('arm')).digest, one.descriptor.digest);
    });

    it('copies to repo@digest untagged, and refuses a digest the image does not have', async () => {
      const digest = (await source.resolve('sample')).digest;
      const ok = await runCli(['copy', `oci:${source.dir}:sample`, `${registry.host}/pinned/app@${digest}`], { DOCKER_CONFIG: dockerConfig });
      assert.equal(ok.code, 0, ok.stderr);
      const remote = await stores.open(parseReference(`${registry.host}/pinned/app`));
      assert.equal((await remote.resolve(digest)).digest, digest);
      await assert.rejects(remote.resolve('latest'), { code: 'NOT_FOUND' }, 'no tag was pushed');
      const wrong = `sha256:${'0'.repeat(64)}`;
      const refused = await runCli(['copy', `oci:${source.dir}:sample`, `${registry.host}/pinned/other@${wrong}`], { DOCKER_CONFIG: dockerConfig });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /digest is sha256:/);
    });

    it('lists the repositories and tags it holds', async () => {
      const remote = await stores.open(parseReference(`${registry.host}/listing/app:v1`));
      await copyImage(source, 'sample', remote, 'v1');
      await copyImage(source, 'sample', remote, 'v2');
      const tags = await runCli(['ls', '--json', `${registry.host}/listing/app`], { DOCKER_CONFIG: dockerConfig });
      assert.equal(tags.code, 0, tags.stderr);
      assert.deepEqual((JSON.parse(tags.stdout) as string[]).sort(), ['v1', 'v2']);
      const repos = await runCli(['ls', registry.host], { DOCKER_CONFIG: dockerConfig });
      assert.equal(repos.code, 0, repos.stderr);
      assert.ok(repos.stdout.split('\n').includes('listing/app'), repos.stdout);
    });
  });
}


// Deleting a tag by name is distribution 3's; 2.x deletes only whole manifests and says the tag
// is an invalid digest. Either way, the other tag on the same manifest must survive.
for (const flavor of ['2.8', '3'] as const) {
  describe(`lazyimg untag, distribution ${flavor}`, () => {
    let registry: RegistryFixture;
    let source: OciLayoutStore;

    before(async () => {
      registry = await startRegistry({ flavor });
      source = await sampleLayout();
    });
    after(() => registry.stop());

    it(flavor === '3' ? 'removes the tag and keeps the manifest for the other tag' : 'says the registry cannot delete tags, and deletes nothing', async () => {
      await runCli(['copy', `oci:${source.dir}:sample`, `${registry.host}/untag/app:old`]);
      await runCli(['copy', `oci:${source.dir}:sample`, `${registry.host}/untag/app:kept`]);
      const result = await runCli(['untag', `${registry.host}/untag/app:old`]);
      const tags = await runCli(['ls', '--json', `${registry.host}/untag/app`]);
      if (flavor === '3') {
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, `Removed the tag ${registry.host}/untag/app:old\n`);
        assert.deepEqual(JSON.parse(tags.stdout), ['kept']);
      } else {
        assert.equal(result.code, 1);
        assert.match(result.stderr, new RegExp(`Cannot delete tag ${registry.host}/untag/app:old: this registry does not delete tags \\(HTTP 400\\)`));
        assert.deepEqual((JSON.parse(tags.stdout) as string[]).sort(), ['kept', 'old']);
      }
      const kept = await runCli(['inspect', '--json', `${registry.host}/untag/app:kept`]);
      assert.equal(kept.code, 0, kept.stderr);
    });

    it('a tag that is not there is an error naming it; a reference without a tag is a usage error', async () => {
      const missing = await runCli(['untag', `${registry.host}/untag/app:never`]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /untag\/app:never/);
      const untagged = await runCli(['untag', `${registry.host}/untag/app`]);
      assert.equal(untagged.code, 2);
      assert.match(untagged.stderr, /explicit tag/);
    });
  });
}

describe('lazyimg untag on an OCI layout', () => {
  it('drops the tag from index.json and keeps the blobs', async () => {
    const layout = await sampleLayout();
    const before = await layout.resolve('sample');
    await copyImage(layout, 'sample', layout, 'second');
    const result = await runCli(['untag', `oci:${layout.dir}:sample`]);
    assert.equal(result.code, 0, result.stderr);
    const index = JSON.parse(await readFile(`${layout.dir}/index.json`, 'utf8')) as { manifests: Descriptor[] };
    assert.deepEqual(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']), ['second']);
    assert.equal((await readFile(`${layout.dir}/blobs/sha256/${before.digest.slice(7)}`)).length, before.size);
    const again = await runCli(['untag', `oci:${layout.dir}:sample`]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /no such tag/);
  });
});
