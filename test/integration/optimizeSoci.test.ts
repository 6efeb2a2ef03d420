// `lazyimg optimize --format soci` on a real two-layer image (fixtures/optimizeImage.ts: the Debian
// base plus a buildah layer whose start script reads files of both layers and starts Python), run
// under real runc: the SOCI-enabled image it writes carries a prefetch artifact per layer listing
// the spans of the files the workload read, and `soci convert --standalone --prefetch-file` (soci
// v0.16.1) given each recorded path writes the same image index, SOCI index and artifacts, digest
// for digest. With the default minimum layer size the small top layer gets no zTOC: its own files
// are reported missing (soci warns about the same ones) and a file it overrides is found below,
// as soci finds it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { SociOptimizeResult } from '../../src/core/jobs/index.js';
import type { ImageIndex, ImageManifest } from '../../src/core/oci/index.js';
import type { StartupProfile } from '../../src/core/optimize/index.js';
import { cleanPrefetchPath, decodePrefetchArtifact, PREFETCH_MEDIA_TYPE } from '../../src/core/soci/index.js';
import { requireCachedTool, requireTool } from '../helpers/tools.js';
import { runCli } from './fixtures/cli.js';
import { buildOptimizeImage } from './fixtures/optimizeImage.js';

const exec = promisify(execFile);
const LAYER_DIGEST = 'com.amazon.soci.image-layer-digest';
const SOCI_INDEX_V2 = 'application/vnd.amazon.soci.index.v2+json';

async function blobOf(layout: string, digest: string): Promise<Buffer> {
  return readFile(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}

/** The SOCI index a SOCI-enabled image index lists, and its prefetch artifacts' bytes by layer. */
async function sociIndexOf(layout: string, top: string): Promise<{ digest: string; manifest: ImageManifest; artifacts: Map<string, { digest: string; bytes: Buffer }> }> {
  const index = JSON.parse((await blobOf(layout, top)).toString()) as ImageIndex;
  const entries = index.manifests.filter((m) => m.artifactType === SOCI_INDEX_V2);
  assert.equal(entries.length, 1, 'one SOCI index');
  const manifest = JSON.parse((await blobOf(layout, entries[0]!.digest)).toString()) as ImageManifest;
  const artifacts = new Map<string, { digest: string; bytes: Buffer }>();
  for (const l of manifest.layers.filter((d) => d.mediaType === PREFETCH_MEDIA_TYPE)) artifacts.set(l.annotations![LAYER_DIGEST]!, { digest: l.digest, bytes: await blobOf(layout, l.digest) });
  return { digest: entries[0]!.digest, manifest, artifacts };
}

describe('lazyimg optimize --format soci against soci convert --prefetch-file with the recorded paths', { timeout: 1_200_000 }, () => {
  let dir: string;
  let source: string;
  let soci: string;
  let count = 0;

  before(async () => {
    for (const tool of ['runc', 'strace']) requireTool(tool, `apt-get install ${tool}`);
    soci = requireCachedTool('soci-v0.16.1/soci');
    dir = join(tmpdir(), `lazyimg-optimize-soci-test-${randomBytes(6).toString('hex')}`);
    source = await buildOptimizeImage(dir);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function optimize(flags: string[]): Promise<{ out: string; result: SociOptimizeResult; profile: StartupProfile; stderr: string }> {
    const out = join(dir, `ours-${++count}`);
    const record = join(dir, `profile-${count}.json`);
    const r = await runCli(['optimize', `oci:${source}:src`, `oci:${out}:soci`, '--format', 'soci', '--record-out', record, ...flags, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as SociOptimizeResult;
    const profile = JSON.parse(await readFile(record, 'utf8')) as StartupProfile;
    assert.deepEqual(result.profile, profile, '--record-out writes the profile the result carries');
    return { out, result, profile, stderr: r.stderr };
  }

  /** soci convert on the same source with the same flags and each recorded path as a --prefetch-file; asserts the same bytes. */
  async function assertSociConvertAgrees(label: string, flags: string[], ours: { out: string; result: SociOptimizeResult; profile: StartupProfile }): Promise<string> {
    const theirs = join(dir, `soci-${++count}`);
    const files = ours.profile.files.flatMap((f) => ['--prefetch-file', `/${f.path}`]);
    const { stdout, stderr } = await exec(soci, ['--root', join(dir, `soci-root-${count}`), 'convert', '--standalone', '--format', 'oci-dir', ...flags, ...files, source, theirs], { maxBuffer: 64 * 1024 * 1024 });
    const top = (JSON.parse(await readFile(join(theirs, 'index.json'), 'utf8')) as ImageIndex).manifests[0]!;
    const a = await sociIndexOf(ours.out, ours.result.image.digest);
    const b = await sociIndexOf(theirs, top.digest);
    assert.deepEqual(a.manifest, b.manifest, `${label}: the SOCI index manifest`);
    assert.equal(a.digest, b.digest, `${label}: the SOCI index digest`);
    assert.deepEqual([...a.artifacts].map(([layer, x]) => [layer, x.digest]), [...b.artifacts].map(([layer, x]) => [layer, x.digest]), `${label}: the prefetch artifacts`);
    for (const [layer, x] of b.artifacts) assert.ok(a.artifacts.get(layer)!.bytes.equals(x.bytes), `${label}: the artifact of ${layer}`);
    assert.equal(ours.result.image.digest, top.digest, `${label}: the image index digest`);
    // soci warns "prefetch file <path> not found in any layer" for what we report missing.
    const warned = [...(stdout + stderr).matchAll(/prefetch file (.*?) not found in any layer/g)].map((m) => m[1]);
    assert.deepEqual(ours.result.indexes[0]!.prefetch!.missing.map(cleanPrefetchPath), warned, `${label}: the files soci found nowhere`);
    return top.digest;
  }

  it('64 KiB spans, every layer indexed: an artifact per layer listing the spans of each file the workload read there', async (t) => {
    const flags = ['--span-size', '65536', '--min-layer-size', '0'];
    const ours = await optimize(flags);
    const { result, profile } = ours;
    assert.equal(result.format, 'soci');
    assert.equal(result.version, 'v2');
    assert.equal(profile.run.exitCode, 0);
    assert.match(result.output, /^1$/m, 'the workload ran to its end');
    // The workload reads files of both layers: the script and its data from the top, the shell and Python from the base.
    for (const [path, layer] of [['app/start.sh', 2], ['app/data.txt', 2], ['usr/lib/os-release', 2], ['usr/bin/dash', 1], ['usr/bin/python3.11', 1]] as const) {
      assert.equal(profile.files.find((f) => f.path === path)?.layer, layer, path);
    }
    assert.equal(result.indexes.length, 1);
    const [ix] = result.indexes;
    const prefetch = ix!.prefetch!;
    const layers = profile.image.layers;
    assert.ok(ix!.layers.every((l) => l.ztoc), 'every layer got a zTOC');
    assert.deepEqual(prefetch.missing, [], 'every recorded file is in a layer with a zTOC');
    // Each recorded file found under its real path, in the layer the recording read it from.
    assert.deepEqual(prefetch.files.map((f) => [f.path, f.name, f.layer]), profile.files.map((f) => [`/${f.path}`, f.path, f.digest]));
    assert.deepEqual(prefetch.artifacts.map((a) => a.layer), layers, 'an artifact for each layer, in manifest order');
    // The index lists those artifacts, and each holds the spans of every file found in its layer.
    const listed = await sociIndexOf(ours.out, result.image.digest);
    for (const a of prefetch.artifacts) {
      const blob = listed.artifacts.get(a.layer);
      assert.equal(blob?.digest, a.digest, `the index lists the artifact of ${a.layer}`);
      const spans = decodePrefetchArtifact(blob.bytes, a.digest);
      assert.deepEqual(spans, a.spans);
      for (const f of prefetch.files.filter((x) => x.layer === a.layer)) {
        assert.ok(spans.some((s) => s.startSpan <= f.startSpan && f.endSpan <= s.endSpan), `${f.path}: spans ${f.startSpan}-${f.endSpan} in ${JSON.stringify(spans)}`);
      }
    }
    const base = prefetch.artifacts[0]!.spans;
    assert.ok(base.length > 1, `the base layer's files lie in several span ranges (${JSON.stringify(base)})`);
    const image = await assertSociConvertAgrees('64 KiB spans', flags, ours);
    t.diagnostic(`recorded ${profile.files.length} files; image ${image}; artifacts ${prefetch.artifacts.map((a) => `${a.layer.slice(7, 19)}: ${a.spans.map((s) => `${s.startSpan}-${s.endSpan}`).join(',')}`).join(' | ')}`);
  });

  it('default spans and minimum layer size: the top layer gets no zTOC, its files are missing and an overridden one is found below, as soci does', async (t) => {
    const ours = await optimize([]);
    const { result, profile } = ours;
    const [ix] = result.indexes;
    const prefetch = ix!.prefetch!;
    const [base, top] = profile.image.layers;
    assert.ok(ix!.layers[0]!.ztoc, 'the base layer has a zTOC');
    assert.ok(ix!.layers[1]!.skipped, 'the top layer has none');
    const onlyTop = profile.files.filter((f) => f.layer === 2 && !['usr/lib/os-release'].includes(f.path)).map((f) => `/${f.path}`);
    assert.ok(onlyTop.includes('/app/start.sh') && onlyTop.includes('/app/data.txt'));
    assert.deepEqual(prefetch.missing, onlyTop, 'the files only the top layer has');
    assert.equal(prefetch.files.find((f) => f.name === 'usr/lib/os-release')?.layer, base, 'os-release, read from the top layer, is found in the base');
    assert.deepEqual(prefetch.artifacts.map((a) => a.layer), [base]);
    assert.ok(!prefetch.artifacts.some((a) => a.layer === top));
    assert.match(ours.stderr, /warning: not prefetched, in no layer with a zTOC: .*\/app\/start\.sh/);
    await assertSociConvertAgrees('defaults', [], ours);
    t.diagnostic(`${prefetch.files.length} files prefetched from the base layer in ${prefetch.artifacts[0]!.spans.length} span range(s); missing: ${prefetch.missing.join(', ')}`);
  });

  it('refuses eStargz options with --format soci before running anything', async () => {
    const r = await runCli(['optimize', `oci:${source}:src`, `oci:${join(dir, 'never')}:x`, '--format', 'soci', '--level', '1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /level does not apply to the soci format/);
  });
});
