// eStargz interop, both directions, with the real tools: images converted by ctr-remote 0.12 are
// verified by lazyimg with the same TOC digests (and with --deep, their TOC entries against Go's
// tar headers); images converted by lazyimg give ctr-remote's
// get-toc-digest (Go's footer and TOC parser) our annotation, and pass the Go library's full
// verification (estargz.Open, VerifyTOC, every file read through verified chunks) with the source
// layer's contents. Also: through a real registry with Range reads, every platform of an index,
// and a corrupt source that must leave nothing behind.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION } from '../../src/core/estargz/verify.js';
import { MediaType, OciLayoutStore, sha256, writeImage, type ImageIndex, type ImageManifest } from '../../src/core/oci/index.js';
import { multiPlatformLayout, tempLayout } from '../helpers/images.js';
import { requireTool } from '../helpers/tools.js';
import { dumpTar, makeTar, treeOf } from '../unit/estargz/helpers.js';
import { runCli } from './fixtures/cli.js';
import { startContainerd, type Containerd } from './fixtures/containerd.js';
import { startRegistry, type RegistryFixture } from './fixtures/registry.js';

const exec = promisify(execFile);
const CHECKER_SOURCE = resolve(__dirname, '..', '..', '..', 'test', 'helpers', 'estargz-check');

async function manifestOf(layout: string, ref = 0): Promise<ImageManifest> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  const digest = index.manifests[ref]!.digest;
  return JSON.parse(await readFile(join(layout, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as ImageManifest;
}

async function lazyimg(...args: string[]): Promise<string> {
  const r = await runCli(args);
  assert.equal(r.code, 0, `lazyimg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('eStargz interop with ctr-remote and the Go library', { timeout: 600_000 }, () => {
  let containerd: Containerd;
  let work: string;
  let checker: string;
  /** The source image: PAX and GNU layers of edge cases (with a path twice: two passes) and one without duplicates (one pass). */
  let source: OciLayoutStore;
  let tars: Buffer[];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'lazyimg-estargz-interop-'));
    requireTool('go', 'install Go (the reference checker is built from the estargz module)');
    checker = join(work, 'estargz-check');
    await exec('go', ['build', '-o', checker, '.'], { cwd: CHECKER_SOURCE });
    containerd = await startContainerd();
    tars = [await makeTar('edge'), await makeTar('gnu'), await makeTar('plain')];
    source = await tempLayout();
    await writeImage(source, tars.map((tar, i) => ({ tar, createdBy: `layer ${i}` })), { tag: 'edge', gzipLevel: 6 });
    await containerd.importLayout(source.dir, 'src');
  });

  after(async () => {
    await containerd?.stop();
    await rm(work, { recursive: true, force: true });
    await rm(source?.dir ?? '', { recursive: true, force: true });
  });

  it('verifies images that ctr-remote converted, with the TOC digests ctr-remote reports', async () => {
    const record = join(work, 'record.jsonl');
    await writeFile(record, `${JSON.stringify({ path: 'app/bin/server' })}\n`);
    await containerd.ctr('images', 'convert', '--estargz', '--oci', '--estargz-record-in', record, 'src:edge', 'src:esgz');
    const exported = await containerd.exportLayout('src:esgz');
    const manifest = await manifestOf(exported);
    const exportedIndex = JSON.parse(await readFile(join(exported, 'index.json'), 'utf8')) as ImageIndex;
    const ref = `oci:${exported}@${exportedIndex.manifests[0]!.digest}`;
    const report = JSON.parse(await lazyimg('verify', ref, '--json')) as { ok: boolean; layers: Array<{ digest: string; lazy: { lazy: boolean; tocDigest: string; chunksVerified: number; layout: { prefetch: { kind: string } } } }> };
    assert.equal(report.ok, true);
    assert.equal(report.layers.length, 3);
    for (const layer of report.layers) {
      assert.equal(layer.lazy.lazy, true, layer.digest);
      assert.ok(layer.lazy.chunksVerified > 0);
      const theirs = (await containerd.ctr('images', 'get-toc-digest', layer.digest)).trim();
      assert.equal(layer.lazy.tocDigest, theirs, `TOC digest of ${layer.digest}`);
      assert.equal(manifest.layers.find((l) => l.digest === layer.digest)!.annotations![TOC_DIGEST_ANNOTATION], theirs);
      assert.equal(layer.lazy.layout.prefetch.kind, 'landmark', 'the record-in file prioritizes in every layer');
    }
    // Go's TOC entries say what Go's tar headers say, field for field.
    const deep = JSON.parse(await lazyimg('verify', '--deep', ref, '--json')) as { ok: boolean; layers: Array<{ lazy: { problems: string[]; headersVerified?: number } }> };
    assert.equal(deep.ok, true, JSON.stringify(deep.layers.map((l) => l.lazy.problems)));
    for (const layer of deep.layers) assert.ok((layer.lazy.headersVerified ?? 0) > 10, `${layer.lazy.headersVerified} tar headers checked`);
    const toc = JSON.parse(await lazyimg('toc', ref, '--layer', '1', '--json')) as { tocDigest: string; entries: Array<{ name: string }> };
    assert.equal(toc.tocDigest, report.layers[0]!.lazy.tocDigest);
    assert.ok(toc.entries.some((e) => e.name === 'app/bin/server'));
  });

  // Prioritized files make every layer take two passes; without them, the layer with no path twice takes one.
  for (const prioritize of [['--prioritize', '/app/bin/server-link'], []]) it(`converts images whose TOC digests ctr-remote reads back equal to our annotations (${prioritize.length ? 'prioritized' : 'tar order'})`, async () => {
    const out = join(work, `ours${prioritize.length}`);
    await lazyimg('convert', '--format', 'estargz', `oci:${source.dir}:edge`, `oci:${out}:esgz`, ...prioritize);
    await containerd.importLayout(out, `ours${prioritize.length}`);
    const manifest = await manifestOf(out);
    assert.equal(manifest.layers.length, 3);
    for (const layer of manifest.layers) {
      assert.equal(layer.mediaType, MediaType.OciLayerGzip);
      const annotation = layer.annotations![TOC_DIGEST_ANNOTATION]!;
      assert.match(annotation, /^sha256:[0-9a-f]{64}$/);
      assert.equal((await containerd.ctr('images', 'get-toc-digest', layer.digest)).trim(), annotation, `layer ${layer.digest}`);
    }
  });

  for (const prioritize of [['--prioritize', 'app/bin/server-link'], []]) it(`converts layers the Go library opens, verifies and reads back with the source contents (${prioritize.length ? 'prioritized' : 'tar order'})`, async () => {
    const out = join(work, `go-check${prioritize.length}`);
    await lazyimg('convert', '--format', 'estargz', `oci:${source.dir}:edge`, `oci:${out}:esgz`, ...prioritize);
    const manifest = await manifestOf(out);
    for (const [i, layer] of manifest.layers.entries()) {
      const blob = join(out, 'blobs', 'sha256', layer.digest.slice(7));
      const { stdout } = await exec(checker, [blob, layer.annotations![TOC_DIGEST_ANNOTATION]!], { maxBuffer: 16 * 1024 * 1024 });
      const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { name?: string; sha256?: string; tocDigest?: string });
      assert.equal(lines.pop()!.tocDigest, layer.annotations![TOC_DIGEST_ANNOTATION]);
      const read = new Map(lines.filter((l) => !l.name!.endsWith('landmark')).map((l) => [l.name!, l.sha256!]));
      // What the source layer holds: regular files, and hard links with their target's contents.
      const tree = treeOf(await dumpTar(tars[i]!));
      const expected = new Map<string, string>();
      for (const [name, e] of tree) {
        if (e.type === 'reg') expected.set(name, e.sha256);
        if (e.type === 'hardlink') expected.set(name, tree.get(e.linkname)!.sha256);
      }
      assert.deepEqual(read, expected, `layer ${i + 1}: files read through the Go library`);
      // The uncompressed-size annotation and the new diff ID describe the same stream.
      const plain = (await exec('sh', ['-c', `gzip -dc < '${blob}' | wc -c`])).stdout.trim();
      assert.equal(layer.annotations![UNCOMPRESSED_SIZE_ANNOTATION], plain);
    }
  });

  it('prioritizes /bin/bash of a usr-merged root as usr/bin/bash, and the Go library verifies and reads the layer', async () => {
    const usr = await tempLayout();
    const tar = await makeTar('usrmerged');
    await writeImage(usr, [{ tar }], { tag: 'v1' });
    const out = join(work, 'usrmerged');
    const result = JSON.parse(await lazyimg('convert', '--format', 'estargz', `oci:${usr.dir}:v1`, `oci:${out}:esgz`, '--prioritize', '/bin/bash', '--json')) as { missing: string[] };
    assert.deepEqual(result.missing, []);
    const layer = (await manifestOf(out)).layers[0]!;
    const { stdout } = await exec(checker, [join(out, 'blobs', 'sha256', layer.digest.slice(7)), layer.annotations![TOC_DIGEST_ANNOTATION]!], { maxBuffer: 16 * 1024 * 1024 });
    const read = stdout.trim().split('\n').map((l) => JSON.parse(l) as { name?: string; sha256?: string; tocDigest?: string });
    assert.equal(read.pop()!.tocDigest, layer.annotations![TOC_DIGEST_ANNOTATION]);
    const bash = treeOf(await dumpTar(tar)).get('usr/bin/bash')!;
    assert.equal(read.find((l) => l.name === 'usr/bin/bash')?.sha256, bash.sha256);
    const toc = JSON.parse(await lazyimg('toc', `oci:${out}:esgz`, '--layer', '1', '--json')) as { prefetch: { kind: string; files: number }; entries: Array<{ name: string; type: string }> };
    assert.equal(toc.prefetch.kind, 'landmark');
    const files = toc.entries.filter((e) => e.type === 'reg').map((e) => e.name);
    assert.deepEqual(files.slice(0, 2), ['usr/bin/bash', '.prefetch.landmark']);
    await rm(usr.dir, { recursive: true, force: true });
  });

  it('converts every platform of an index, once per distinct layer', async () => {
    const { store } = await multiPlatformLayout();
    const out = join(work, 'multi');
    const result = JSON.parse(await lazyimg('convert', '--format', 'estargz', `oci:${store.dir}:multi`, `oci:${out}:multi-esgz`, '--all-platforms', '--json')) as { layers: unknown[] };
    const top = (JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as ImageIndex).manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'multi-esgz')!;
    const index = JSON.parse(await readFile(join(out, 'blobs', 'sha256', top.digest.slice(7)), 'utf8')) as ImageIndex;
    assert.deepEqual(index.manifests.map((m) => `${m.platform!.os}/${m.platform!.architecture}`), ['linux/amd64', 'linux/arm64']);
    const report = JSON.parse(await lazyimg('verify', `oci:${out}:multi-esgz`, '--json')) as { ok: boolean; layers: Array<{ lazy: { lazy: boolean } }> };
    assert.equal(report.ok, true);
    assert.ok(report.layers.every((l) => l.lazy.lazy));
    assert.equal(result.layers.length, report.layers.length, 'each distinct layer converted once');
    await rm(store.dir, { recursive: true, force: true });
  });
});

describe('eStargz through a registry', { timeout: 300_000 }, () => {
  let registry: RegistryFixture;
  let source: OciLayoutStore;

  before(async () => {
    registry = await startRegistry({ accessLog: true });
    source = await tempLayout();
    await writeImage(source, [{ tar: await makeTar('edge') }], { tag: 'edge' });
    await lazyimg('--insecure', registry.host, 'copy', `oci:${source.dir}:edge`, `${registry.host}/app:edge`);
  });

  after(async () => {
    await registry?.stop();
    await rm(source?.dir ?? '', { recursive: true, force: true });
  });

  it('converts registry to registry and verifies with Range reads', async () => {
    await lazyimg('--insecure', registry.host, 'convert', '--format', 'estargz', `${registry.host}/app:edge`, `${registry.host}/app:edge-esgz`);
    const quick = JSON.parse(await lazyimg('--insecure', registry.host, 'verify', `${registry.host}/app:edge-esgz`, '--quick', '--json')) as { ok: boolean; bytes: number; layers: Array<{ lazy: { lazy: boolean } }> };
    assert.equal(quick.ok, true);
    assert.equal(quick.bytes, 0, 'a quick check reads no whole blob');
    assert.equal(quick.layers[0]!.lazy.lazy, true);
    const requests = await registry.requests();
    const inspect = JSON.parse(await lazyimg('--insecure', registry.host, 'inspect', `${registry.host}/app:edge-esgz`, '--json')) as { manifests: Array<{ layers: Array<{ lazy?: { format: string } }> }> };
    assert.equal(inspect.manifests[0]!.layers[0]!.lazy?.format, 'estargz');
    const full = await lazyimg('--insecure', registry.host, 'verify', `${registry.host}/app:edge-esgz`);
    assert.match(full, /^OK: /);
    assert.match(full, /eStargz, lazy: \d+ files, (\d+) chunks, no prefetch, (\d+)\/\1 chunk digests verified/);
    assert.ok(requests.some((r) => r.startsWith('GET /v2/app/blobs/')), 'blobs were read from the registry');
  });

  it('leaves nothing behind when a layer is corrupt', async () => {
    const broken = await tempLayout();
    const gz = gzipSync(await makeTar('edge'));
    const layer = gz.subarray(0, gz.length - 5000);
    await writeImage(broken, [{ tar: await makeTar('empty') }], { tag: 'ok' });
    // Swap the good layer for a truncated gzip, keeping digests honest so only the content is bad.
    const manifest = await manifestOf(broken.dir);
    const { Readable } = await import('node:stream');
    const bad = { mediaType: MediaType.OciLayerGzip, digest: sha256(layer), size: layer.length };
    await broken.putBlob(bad, async () => Readable.from([layer]));
    const config = JSON.parse(await readFile(join(broken.dir, 'blobs', 'sha256', manifest.config.digest.slice(7)), 'utf8')) as { rootfs: { diff_ids: string[] } };
    config.rootfs.diff_ids = [sha256(await makeTar('edge'))];
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDescriptor = { mediaType: MediaType.OciConfig, digest: sha256(configBytes), size: configBytes.length };
    await broken.putBlob(configDescriptor, async () => Readable.from([configBytes]));
    await broken.putManifest(Buffer.from(JSON.stringify({ ...manifest, config: configDescriptor, layers: [bad] })), MediaType.OciManifest, 'truncated');

    const r = await runCli(['--insecure', registry.host, 'convert', '--format', 'estargz', `oci:${broken.dir}:truncated`, `${registry.host}/broken:esgz`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^lazyimg: .*layer 1\/1.*truncated/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    const tags = await runCli(['--insecure', registry.host, 'ls', `${registry.host}/broken`]);
    assert.notEqual(tags.code, 0, 'the repository does not exist: nothing was pushed');
    const repos = await lazyimg('--insecure', registry.host, 'ls', registry.host);
    assert.doesNotMatch(repos, /broken/);
    await rm(broken.dir, { recursive: true, force: true });
  });
});
