// `npm run image`: the CLI as an OCI image runs with runc alone, without a network, as uid 65532,
// on a read-only root, and finds the worker-thread scripts it loads by path.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { cliImage, runImage, type CliImage } from './fixtures/cliImage.js';

describe('the CLI image', { timeout: 600_000 }, () => {
  let image: CliImage;
  before(async () => {
    image = await cliImage();
  });

  it('is one OCI layout and archive, tagged with the version, running node on the CLI as 65532', async () => {
    const index = JSON.parse(await readFile(join(image.layout, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations: Record<string, string> }[] };
    assert.equal(index.manifests.length, 1);
    const [entry] = index.manifests;
    assert.equal(entry!.annotations['org.opencontainers.image.ref.name'], image.version);
    assert.equal(entry!.annotations['io.containerd.image.name'], `docker.io/library/lazyimg:${image.version}`);
    const blob = (digest: string) => readFile(join(image.layout, 'blobs', 'sha256', digest.slice('sha256:'.length)), 'utf8');
    const manifest = JSON.parse(await blob(entry!.digest)) as { config: { digest: string }; layers: unknown[] };
    const config = JSON.parse(await blob(manifest.config.digest)) as { config: { Entrypoint: string[]; Cmd?: string[]; User: string } };
    assert.deepEqual(config.config.Entrypoint, ['node', '/opt/lazyimg/cli.js']);
    assert.equal(config.config.Cmd, undefined);
    assert.equal(config.config.User, '65532:65532');
    assert.equal(manifest.layers.length, 2, 'the Debian minbase, then node and the CLI');
    assert.match(image.report, /image: 2 layers, compressed [\d.]+ MiB/);
  });

  it('prints its version', async () => {
    const r = await runImage(image, ['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), image.version);
  });

  it('inspects an OCI layout, and indexes it for SOCI on its zTOC worker threads', async () => {
    const inspect = await runImage(image, ['inspect', `oci:/data:${image.version}`], { '/data': image.layout });
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.match(inspect.stdout, /2 layers, [\d.]+ MiB compressed/);
    const index = await runImage(image, ['index', `oci:/data:${image.version}`, 'oci:/tmp/out:soci'], { '/data': image.layout });
    assert.equal(index.code, 0, index.stderr);
    assert.match(index.stdout, /Indexed oci:\/data:.* for SOCI/);
    assert.equal((index.stdout.match(/zTOC [0-9a-f]{12}/g) ?? []).length, 2, index.stdout);
  });
});
