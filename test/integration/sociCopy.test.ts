// A SOCI-enabled image keeps its lazy indexes through every copy, on distribution 2.8 (no
// referrers API: the fallback tag) and 3 (the API): `lazyimg index` writes a v2 image, which is
// copied plain (one platform), with --platform out of a two-platform index, and back from the
// registry into a layout; a v1 index travels with its image as a referrer, unless --no-referrers.
// After each copy, `verify` finds the index as soci-snapshotter would and reads every span, and
// `cat` reads a file through its spans, the same bytes as Python's tarfile reads in the source tar.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MediaType, writeImage, type ImageIndex, type OciLayoutStore } from '../../src/core/oci/index.js';
import { tempLayout } from '../helpers/images.js';
import { dumpTar, makeTar, type DumpedEntry } from '../unit/estargz/helpers.js';
import { runCli, runCliBytes } from './fixtures/cli.js';
import { startRegistry, type RegistryFixture } from './fixtures/registry.js';

const SPAN = String(1024 * 1024);

interface Verified {
  ok: boolean;
  problems: Array<{ message: string }>;
  soci: Array<{ version?: string; index: string; problems: string[] }>;
  layers: Array<{ label: string; soci?: { lazy: boolean; spansVerified: number; spans: number } }>;
}

for (const flavor of ['2.8', '3'] as const) {
  describe(`copies keep SOCI indexes, distribution ${flavor}`, { timeout: 300_000 }, () => {
    let registry: RegistryFixture;
    let source: OciLayoutStore;
    let out: string;
    let file: DumpedEntry;
    let lazyimg: (...args: string[]) => Promise<string>;

    before(async () => {
      registry = await startRegistry({ flavor });
      source = await tempLayout('lazyimg-soci-copy-');
      out = await mkdtemp(join(tmpdir(), 'lazyimg-soci-copy-out-'));
      lazyimg = async (...args) => {
        const r = await runCli(['--insecure', registry.host, ...args]);
        assert.equal(r.code, 0, `lazyimg ${args.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };
      const tar = (await makeTar('big', '20'))!;
      // A small file before a 9 MiB one: reading it must skip most of the layer.
      file = (await dumpTar(tar)).find((e) => e.type === 'reg' && e.size > 10_000 && e.size < 100_000)!;
      assert.ok(file, 'the layer has a small file');
      const amd64 = await writeImage(source, [{ tar }, { entries: [{ name: 'etc/arch', type: 'file', content: Buffer.from('amd64\n') }] }], { tag: 'one' });
      const arm64 = await writeImage(source, [{ tar }, { entries: [{ name: 'etc/arch', type: 'file', content: Buffer.from('arm64\n') }] }], { platform: { os: 'linux', architecture: 'arm64' } });
      const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [
        { ...amd64.manifest, platform: { os: 'linux', architecture: 'amd64' } },
        { ...arm64.manifest, platform: { os: 'linux', architecture: 'arm64' } },
      ] };
      await source.putManifest(Buffer.from(JSON.stringify(index)), MediaType.OciIndex, 'two');
      await lazyimg('index', `oci:${source.dir}:one`, '--span-size', SPAN, '--min-layer-size', '0');
      await lazyimg('index', `oci:${source.dir}:two`, '--all-platforms', '--span-size', SPAN, '--min-layer-size', '0');
    });
    after(async () => {
      await registry?.stop();
      await rm(source?.dir ?? '', { recursive: true, force: true });
      await rm(out ?? '', { recursive: true, force: true });
    });

    /** verify finds one SOCI index of `version` and reads every span of every layer through it. */
    async function assertLazy(ref: string, version: 'v1' | 'v2', platform = 'linux/amd64'): Promise<void> {
      const report = JSON.parse(await lazyimg('verify', ref, '--json')) as Verified;
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual(report.soci.map((s) => [s.version, s.problems]), [[version, []]], `${ref}: ${JSON.stringify(report.soci)}`);
      assert.ok(report.layers.length === 2 && report.layers.every((l) => l.soci?.lazy && l.soci.spansVerified === l.soci.spans), JSON.stringify(report.layers));
      const cat = await runCliBytes(['--insecure', registry.host, 'cat', '--platform', platform, ref, `/${file.name}`, '--stats']);
      assert.equal(cat.code, 0, cat.stderr);
      const share = /via soci, span \d+; fetched .* \(\d+ bytes, ([\d.]+)% of the layer\)/.exec(cat.stderr);
      // The zTOC (32 KiB of window per span) and one span of a big layer: a small part of it.
      assert.ok(share && Number(share[1]) < 15, cat.stderr);
      assert.equal(createHash('sha256').update(cat.stdout).digest('hex'), file.sha256, 'the bytes Python reads in the source tar');
    }

    it('v2, plain copy of a one-platform image: the image index as it is, SOCI index and zTOCs included', async () => {
      const copied = JSON.parse(await lazyimg('copy', `oci:${source.dir}:one-soci`, `${registry.host}/app:plain`, '--json')) as { descriptor: { digest: string }; sociIndexes: string[] };
      assert.equal(copied.descriptor.digest, (await source.resolve('one-soci')).digest, 'the same index, byte for byte');
      assert.equal(copied.sociIndexes.length, 1);
      await assertLazy(`${registry.host}/app:plain`, 'v2');
    });

    it('v2, --platform out of a two-platform index: an index of that platform\'s manifest and its SOCI index', async () => {
      const copied = JSON.parse(await lazyimg('copy', '--platform', 'linux/arm64', `oci:${source.dir}:two-soci`, `${registry.host}/app:arm64`, '--json')) as { descriptor: { digest: string; mediaType: string } };
      assert.equal(copied.descriptor.mediaType, MediaType.OciIndex);
      const top = JSON.parse(await lazyimg('inspect', `${registry.host}/app:arm64`, '--raw')) as ImageIndex;
      assert.deepEqual(top.manifests.map((m) => [m.platform?.architecture, m.artifactType ?? 'image']), [['arm64', 'image'], ['arm64', 'application/vnd.amazon.soci.index.v2+json']]);
      await assertLazy(`${registry.host}/app:arm64`, 'v2', 'linux/arm64');
      const arch = await runCli(['--insecure', registry.host, 'cat', '--platform', 'linux/arm64', `${registry.host}/app:arm64`, '/etc/arch']);
      assert.equal(arch.stdout, 'arm64\n');
    });

    it('v2, registry to layout', async () => {
      await lazyimg('copy', '--platform', 'linux/arm64', `${registry.host}/app:arm64`, `oci:${join(out, 'v2')}:arm64`);
      await assertLazy(`oci:${join(out, 'v2')}:arm64`, 'v2', 'linux/arm64');
      assert.equal(await lazyimg('inspect', `oci:${join(out, 'v2')}:arm64`, '--raw'), await lazyimg('inspect', `${registry.host}/app:arm64`, '--raw'), 'the same index, byte for byte');
    });

    it('v1: the index copied along as a referrer, both ways; --no-referrers leaves it behind', async () => {
      await lazyimg('index', `oci:${source.dir}:one`, '--soci-version', 'v1', '--span-size', SPAN, '--min-layer-size', '0');
      const copied = JSON.parse(await lazyimg('copy', `oci:${source.dir}:one`, `${registry.host}/app:v1`, '--json')) as { sociIndexes: string[] };
      assert.equal(copied.sociIndexes.length, 1);
      await assertLazy(`${registry.host}/app:v1`, 'v1');
      await lazyimg('copy', `${registry.host}/app:v1`, `oci:${join(out, 'v1')}:v1`);
      await assertLazy(`oci:${join(out, 'v1')}:v1`, 'v1');

      await lazyimg('copy', '--no-referrers', `oci:${source.dir}:one`, `oci:${join(out, 'bare')}:v1`);
      const bare = JSON.parse(await lazyimg('verify', `oci:${join(out, 'bare')}:v1`, '--json')) as Verified;
      assert.deepEqual(bare.soci, []);
      assert.ok(bare.layers.every((l) => !l.soci));
    });

    it('copies an image whose SOCI index is missing from the source, and says what that means', async () => {
      // What a tool that knows nothing of SOCI leaves: the platform manifest and its blobs, no index.
      const top = await source.getManifest(await source.resolve('one-soci'));
      assert.equal(top.kind, 'index');
      const listed = top.kind === 'index' ? top.index.manifests.find((m) => !m.artifactType)! : undefined;
      const image = await source.getManifest(listed!);
      assert.equal(image.kind, 'manifest');
      const named = image.kind === 'manifest' ? image.manifest.annotations?.['com.amazon.soci.index-digest'] : undefined;
      const broken = await tempLayout('lazyimg-soci-copy-broken-');
      try {
        if (image.kind !== 'manifest') return;
        for (const blob of [image.manifest.config, ...image.manifest.layers]) await broken.putBlob(blob, () => source.getBlob(blob));
        await broken.putManifest(image.bytes, image.descriptor.mediaType, 'img');
        const r = await runCli(['copy', `oci:${broken.dir}:img`, `oci:${join(out, 'broken')}:img`]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`warning: the SOCI index ${named} of image ${image.descriptor.digest} cannot be read from oci:.*: the copy has none either, so soci-snapshotter pulls the image without it`));
      } finally {
        await rm(broken.dir, { recursive: true, force: true });
      }
    });
  });
}
