import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { LazyImageError } from '../../src/core/errors.js';
import { verifyImage } from '../../src/core/jobs/verify.js';
import { LAYOUT_LOCK, OciLayoutStore } from '../../src/core/oci/layout.js';
import { currentOwner, ownerTag } from '../../src/core/oci/owner.js';
import type { NamePage } from '../../src/core/oci/store.js';
import { MediaType } from '../../src/core/oci/mediaTypes.js';
import { ANNOTATION_REF_NAME, type Descriptor } from '../../src/core/oci/types.js';
import { assertRejectsCode } from './helpers/errors.js';
import { storeImage } from './helpers/image.js';
import { blob, configBlob, descriptorOf, indexBytes, manifestBytes } from './helpers/oci.js';
import { run } from './helpers/proc.js';
import { readAll, streamOf } from './helpers/streams.js';
import { useTempDirs } from './helpers/tmp.js';

const tempDir = useTempDirs('lazyimg-layout-');

async function newStore(): Promise<OciLayoutStore> {
  return OciLayoutStore.open(join(await tempDir(), 'layout'), { create: true });
}

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('.lazyimg-tmp-'));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

function blobPath(store: OciLayoutStore, d: Descriptor): string {
  return join(store.dir, 'blobs', ...d.digest.split(':'));
}

describe('OciLayoutStore.open', () => {
  it('creates the folder, oci-layout, index.json and blobs/sha256', async () => {
    const store = await newStore();
    assert.deepEqual(JSON.parse(await readFile(join(store.dir, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
    assert.deepEqual(JSON.parse(await readFile(join(store.dir, 'index.json'), 'utf8')), { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] });
    assert.ok((await stat(join(store.dir, 'blobs', 'sha256'))).isDirectory());
    assert.deepEqual(await leftovers(store.dir), []);
    assert.equal(store.name, `oci:${store.dir}`);
    const again = await OciLayoutStore.open(store.dir);
    assert.deepEqual(await again.readIndex(), await store.readIndex());
  });

  it('does not touch an existing layout when asked to create', async () => {
    const store = await newStore();
    const image = await storeImage(store, { tag: 'v1' });
    const reopened = await OciLayoutStore.open(store.dir, { create: true });
    assert.deepEqual(await reopened.resolve('v1'), { ...image.manifest, annotations: { [ANNOTATION_REF_NAME]: 'v1' } });
  });

  it('refuses a folder without oci-layout with NOT_FOUND', async () => {
    const dir = await tempDir();
    await assertRejectsCode(OciLayoutStore.open(dir), { code: 'NOT_FOUND', includes: [dir, 'oci-layout'] });
    assert.deepEqual(await readdir(dir), []);
  });

  const badMarkers = [
    { name: 'not JSON', text: 'hello' },
    { name: 'another version', text: '{"imageLayoutVersion":"2.0.0"}' },
    { name: 'no version', text: '{}' },
    { name: 'a number version', text: '{"imageLayoutVersion":1}' },
  ];
  for (const c of badMarkers) {
    it(`refuses an oci-layout file with ${c.name} with INVALID_FORMAT`, async () => {
      const dir = await tempDir();
      await writeFile(join(dir, 'oci-layout'), c.text);
      await assertRejectsCode(OciLayoutStore.open(dir, { create: true }), { code: 'INVALID_FORMAT', includes: [dir, 'imageLayoutVersion'] });
    });
  }
});

describe('OciLayoutStore blobs', () => {
  const content = Buffer.from('The quick brown fox jumps over the lazy dog.\n'.repeat(100));
  const b = blob(content);

  it('stores a blob and reads it back', async () => {
    const store = await newStore();
    let seen = 0;
    assert.equal(await store.hasBlob(b.descriptor), false);
    assert.equal(await store.putBlob(b.descriptor, async () => streamOf(content.subarray(0, 1000), content.subarray(1000)), { onProgress: (written) => (seen = written) }), 'uploaded');
    assert.equal(seen, content.length);
    assert.equal(await store.hasBlob(b.descriptor), true);
    assert.deepEqual(await readFile(blobPath(store, b.descriptor)), content);
    assert.deepEqual(await readAll(await store.getBlob(b.descriptor)), content);
    assert.deepEqual(await leftovers(store.dir), []);
  });

  it('does not open the source of a blob it already has', async () => {
    const store = await newStore();
    await store.putBlob(b.descriptor, async () => Readable.from([content]));
    let opened = false;
    const result = await store.putBlob(b.descriptor, async () => {
      opened = true;
      return Readable.from([content]);
    });
    assert.equal(result, 'existed');
    assert.equal(opened, false);
  });

  const mismatches: Array<{ name: string; source: Buffer; includes: string }> = [
    { name: 'other bytes of the same size', source: Buffer.from(content.toString().replace('fox', 'cat')), includes: 'content has digest' },
    { name: 'too many bytes', source: Buffer.concat([content, Buffer.from('extra')]), includes: 'more than the expected' },
    { name: 'too few bytes', source: content.subarray(1), includes: 'bytes instead of' },
  ];
  for (const c of mismatches) {
    it(`rejects a source with ${c.name} and leaves no file behind`, async () => {
      const store = await newStore();
      await assertRejectsCode(store.putBlob(b.descriptor, async () => streamOf(c.source)), { code: 'DIGEST_MISMATCH', includes: [b.descriptor.digest, c.includes] });
      assert.deepEqual(await leftovers(store.dir), []);
      assert.equal(await exists(blobPath(store, b.descriptor)), false);
      assert.equal(await store.hasBlob(b.descriptor), false);
    });
  }

  it('cleans up when the source stream fails', async () => {
    const store = await newStore();
    const failing = new Readable({
      read() {
        this.destroy(new Error('network went away'));
      },
    });
    await assert.rejects(store.putBlob(b.descriptor, async () => failing), /network went away/);
    assert.deepEqual(await leftovers(store.dir), []);
    assert.equal(await exists(blobPath(store, b.descriptor)), false);
  });

  it('fails a read of a blob whose file was changed on disk', async () => {
    const store = await newStore();
    await store.putBlob(b.descriptor, async () => Readable.from([content]));
    await writeFile(blobPath(store, b.descriptor), Buffer.from(content.toString().replace('dog', 'cat')));
    await assertRejectsCode(readAll(await store.getBlob(b.descriptor)), { code: 'DIGEST_MISMATCH', includes: [b.descriptor.digest] });
  });

  it('reports a missing blob as NOT_FOUND', async () => {
    const store = await newStore();
    await assertRejectsCode(store.getBlob(b.descriptor), { code: 'NOT_FOUND', includes: [b.descriptor.digest] });
  });

  const ranges = [
    { offset: 0, length: 1 },
    { offset: 0, length: content.length },
    { offset: 44, length: 46 },
    { offset: content.length - 1, length: 1 },
  ];
  for (const r of ranges) {
    it(`reads exactly bytes ${r.offset}+${r.length}`, async () => {
      const store = await newStore();
      await store.putBlob(b.descriptor, async () => Readable.from([content]));
      assert.deepEqual(await store.readBlobRange(b.descriptor, r.offset, r.length), content.subarray(r.offset, r.offset + r.length));
    });
  }

  const badRanges = [
    { name: 'past the end', offset: content.length - 1, length: 2 },
    { name: 'starting at the end', offset: content.length, length: 1 },
    { name: 'negative offset', offset: -1, length: 2 },
    { name: 'empty', offset: 0, length: 0 },
    { name: 'fractional', offset: 0.5, length: 1 },
  ];
  for (const r of badRanges) {
    it(`rejects a range ${r.name} with INVALID_ARGUMENT`, async () => {
      const store = await newStore();
      await store.putBlob(b.descriptor, async () => Readable.from([content]));
      await assertRejectsCode(store.readBlobRange(b.descriptor, r.offset, r.length), { code: 'INVALID_ARGUMENT', includes: [String(content.length)] });
    });
  }

  it('fails a range read when the file is shorter than its descriptor says', async () => {
    const store = await newStore();
    await store.putBlob(b.descriptor, async () => Readable.from([content]));
    await writeFile(blobPath(store, b.descriptor), content.subarray(0, 10));
    await assertRejectsCode(store.readBlobRange(b.descriptor, 5, 20), { code: 'INVALID_FORMAT', includes: ['ends early at 10'] });
  });
});

describe('OciLayoutStore.adoptBlobFile', () => {
  const content = Buffer.from('a converted layer, written and hashed by the converter');
  const b = blob(content);

  it('moves the file in, leaving no temp file and no source behind', async () => {
    const store = await newStore();
    const file = join(await tempDir(), 'built.blob');
    await writeFile(file, content);
    assert.equal(await store.adoptBlobFile(b.descriptor, file), 'uploaded');
    assert.equal(await exists(file), false);
    assert.deepEqual(await readAll(await store.getBlob(b.descriptor)), content);
    assert.deepEqual(await leftovers(store.dir), []);
    await writeFile(file, content);
    assert.equal(await store.adoptBlobFile(b.descriptor, file), 'existed');
  });

  it('with keep, copies the file and shows the blob only once the caller\'s check passes', async () => {
    const store = await newStore();
    const file = join(await tempDir(), 'other-layout.blob');
    await writeFile(file, content);
    await assertRejectsCode(store.adoptBlobFile(b.descriptor, file, { keep: true, verified: Promise.reject(new LazyImageError('DIGEST_MISMATCH', 'the read found another digest')) }), { code: 'DIGEST_MISMATCH', includes: ['another digest'] });
    assert.equal(await store.hasBlob(b.descriptor), false);
    assert.deepEqual(await leftovers(store.dir), []);
    assert.equal(await store.adoptBlobFile(b.descriptor, file, { keep: true, verified: Promise.resolve() }), 'uploaded');
    assert.deepEqual(await readFile(file), content, 'the source file stays');
    assert.deepEqual(await readAll(await store.getBlob(b.descriptor)), content);
    assert.equal(await store.blobFile(b.descriptor), blobPath(store, b.descriptor));
    assert.equal(await store.blobFile(blob(Buffer.from('absent')).descriptor), undefined);
  });

  it('refuses a file whose size is not the descriptor\'s', async () => {
    const store = await newStore();
    const file = join(await tempDir(), 'built.blob');
    await writeFile(file, content.subarray(1));
    await assertRejectsCode(store.adoptBlobFile(b.descriptor, file), { code: 'DIGEST_MISMATCH', includes: [b.descriptor.digest, 'not ' + String(content.length)] });
    assert.equal(await store.hasBlob(b.descriptor), false);
  });
});

describe('OciLayoutStore manifests and tags', () => {
  it('stores a tagged manifest and resolves it by tag, by digest and, alone, by nothing', async () => {
    const store = await newStore();
    const image = await storeImage(store, { tag: 'v1' });
    const tagged = { ...image.manifest, annotations: { [ANNOTATION_REF_NAME]: 'v1' } };
    assert.deepEqual(image.manifest, descriptorOf(image.manifestBytes, MediaType.OciManifest));
    assert.deepEqual((await store.readIndex()).manifests, [tagged]);
    assert.deepEqual(await store.resolve('v1'), tagged);
    assert.deepEqual(await store.resolve(image.manifest.digest), tagged);
    assert.deepEqual(await store.resolve(undefined), tagged);
    assert.deepEqual(await store.resolve(''), tagged);
    const doc = await store.getManifest(tagged);
    assert.equal(doc.kind, 'manifest');
    assert.deepEqual(doc.bytes, image.manifestBytes);
    assert.deepEqual(await readFile(blobPath(store, image.manifest)), image.manifestBytes);
  });

  it('asks for a tag when it holds several images, listing them', async () => {
    const store = await newStore();
    await storeImage(store, { tag: 'v1', text: 'one' });
    await storeImage(store, { tag: 'v2', text: 'two' });
    await assertRejectsCode(store.resolve(undefined), { code: 'INVALID_REFERENCE', includes: ['2 images', 'v1, v2'] });
  });

  it('asks for a tag in an empty layout', async () => {
    const store = await newStore();
    await assertRejectsCode(store.resolve(undefined), { code: 'INVALID_REFERENCE', includes: ['0 images'] });
  });

  it('reports an unknown tag as NOT_FOUND', async () => {
    const store = await newStore();
    await storeImage(store, { tag: 'v1' });
    await assertRejectsCode(store.resolve('v9'), { code: 'NOT_FOUND', includes: ['v9'] });
  });

  it('resolves a digest that is only a blob (a platform manifest of an index)', async () => {
    const store = await newStore();
    const image = await storeImage(store, { tag: 'amd64' });
    const index = indexBytes([{ ...image.manifest, platform: { architecture: 'amd64', os: 'linux' } }]);
    await store.putManifest(index, MediaType.OciIndex, 'multi');
    // Moving the tag away leaves the platform manifest listed only inside the index.
    await store.putManifest(indexBytes([]), MediaType.OciIndex, 'amd64');
    assert.ok(!(await store.readIndex()).manifests.some((m) => m.digest === image.manifest.digest));
    assert.deepEqual(await store.resolve(image.manifest.digest), image.manifest);
  });

  it('moves a tag to the new manifest', async () => {
    const store = await newStore();
    await storeImage(store, { tag: 'latest', text: 'old' });
    const other = await storeImage(store, { tag: 'stable', text: 'other' });
    const fresh = await storeImage(store, { tag: 'latest', text: 'new' });
    const { manifests } = await store.readIndex();
    assert.deepEqual(manifests.map((m) => [m.annotations?.[ANNOTATION_REF_NAME], m.digest]), [
      ['stable', other.manifest.digest],
      ['latest', fresh.manifest.digest],
    ]);
    assert.equal((await store.resolve('latest')).digest, fresh.manifest.digest);
  });

  it('lists one manifest under two tags twice, and an untagged one once', async () => {
    const store = await newStore();
    const image = await storeImage(store, { tag: 'a' });
    await store.putManifest(image.manifestBytes, MediaType.OciManifest, 'b');
    const untagged = await storeImage(store, { text: 'untagged' });
    await store.putManifest(untagged.manifestBytes, MediaType.OciManifest);
    const { manifests } = await store.readIndex();
    assert.deepEqual(manifests.map((m) => [m.digest, m.annotations?.[ANNOTATION_REF_NAME]]), [
      [image.manifest.digest, 'a'],
      [image.manifest.digest, 'b'],
      [untagged.manifest.digest, undefined],
    ]);
    const pages: NamePage[] = [];
    for await (const page of store.listTags()) pages.push(page);
    assert.deepEqual(pages, [{ names: ['a', 'b'], last: true }]);
  });

  it('keeps every tag when manifests are stored concurrently', async () => {
    const store = await newStore();
    const config = configBlob();
    const tags = Array.from({ length: 12 }, (_, i) => `t${i}`);
    await Promise.all(tags.map((tag) => store.putManifest(manifestBytes({ config: config.descriptor, layers: [], annotations: { tag } }), MediaType.OciManifest, tag)));
    const pages: string[][] = [];
    for await (const page of store.listTags()) pages.push(page.names);
    assert.deepEqual(pages.flat().sort(), [...tags].sort());
    assert.deepEqual(await leftovers(store.dir), []);
  });

  it('refuses an invalid manifest and leaves index.json as it was', async () => {
    const store = await newStore();
    const before = await readFile(join(store.dir, 'index.json'));
    await assertRejectsCode(store.putManifest(Buffer.from('{"schemaVersion":2,"layers":[]}'), MediaType.OciManifest, 'bad'), { code: 'INVALID_FORMAT', includes: ['config'] });
    assert.deepEqual(await readFile(join(store.dir, 'index.json')), before);
  });

  it('fails to read a manifest whose blob was changed on disk', async () => {
    const store = await newStore();
    const image = await storeImage(store, { tag: 'v1' });
    await writeFile(blobPath(store, image.manifest), Buffer.from(image.manifestBytes.toString().replace('"schemaVersion":2', '"schemaVersion": 2')));
    await assertRejectsCode(store.getManifest(image.manifest), { code: 'DIGEST_MISMATCH', includes: [image.manifest.digest] });
  });

  it('reports a broken index.json as INVALID_FORMAT', async () => {
    const store = await newStore();
    await writeFile(join(store.dir, 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"nope"}]}');
    await assertRejectsCode(store.resolve('v1'), { code: 'INVALID_FORMAT', includes: ['index.json', 'manifests[0]'] });
  });
});

describe('OciLayoutStore.referrers', () => {
  it('finds manifests whose subject is the image, filtered by artifact type', async () => {
    const store = await newStore();
    const image = await storeImage(store, { tag: 'v1' });
    const empty = blob('{}', MediaType.OciEmpty);
    await store.putBlob(empty.descriptor, async () => Readable.from([empty.bytes]));
    const sbom = await store.putManifest(
      manifestBytes({ artifactType: 'application/spdx+json', config: empty.descriptor, layers: [], subject: image.manifest, annotations: { kind: 'sbom' } }),
      MediaType.OciManifest,
    );
    const sigConfig = blob('{"sig":1}', 'application/vnd.example.signature.config+json');
    await store.putBlob(sigConfig.descriptor, async () => Readable.from([sigConfig.bytes]));
    const signature = await store.putManifest(manifestBytes({ config: sigConfig.descriptor, layers: [], subject: image.manifest }), MediaType.OciManifest);
    // A referrer of something else, and an unrelated image.
    await store.putManifest(manifestBytes({ artifactType: 'application/spdx+json', config: empty.descriptor, layers: [], subject: sbom }), MediaType.OciManifest);
    await storeImage(store, { tag: 'v2', text: 'other' });

    const cases: Array<{ name: string; artifactType?: string; want: Descriptor[] }> = [
      {
        name: 'all',
        want: [
          { ...sbom, artifactType: 'application/spdx+json', annotations: { kind: 'sbom' } },
          { ...signature, artifactType: 'application/vnd.example.signature.config+json' },
        ],
      },
      { name: 'by artifactType', artifactType: 'application/spdx+json', want: [{ ...sbom, artifactType: 'application/spdx+json', annotations: { kind: 'sbom' } }] },
      { name: 'by config media type', artifactType: 'application/vnd.example.signature.config+json', want: [{ ...signature, artifactType: 'application/vnd.example.signature.config+json' }] },
      { name: 'by a type nobody has', artifactType: 'application/none', want: [] },
    ];
    for (const c of cases) assert.deepEqual(await store.referrers(image.manifest.digest, c.artifactType), c.want, c.name);
    assert.deepEqual(await store.referrers(image.config.digest), []);
  });
});

describe('OciLayoutStore with skopeo', () => {
  it('writes a layout skopeo reads byte for byte and can copy', async () => {
    const store = await newStore();
    const image = await storeImage(store, { tag: 'v1', architecture: 'arm64' });
    await storeImage(store, { tag: 'other', text: 'second image' });

    const raw = await run('skopeo', ['inspect', '--raw', `oci:${store.dir}:v1`]);
    assert.equal(raw.code, 0, raw.stderr);
    assert.deepEqual(raw.stdout, image.manifestBytes);

    const inspected = await run('skopeo', ['inspect', `oci:${store.dir}:v1`]);
    assert.equal(inspected.code, 0, inspected.stderr);
    const info = JSON.parse(inspected.stdout.toString()) as { Digest: string; Architecture: string; Os: string; Layers: string[] };
    assert.deepEqual({ digest: info.Digest, arch: info.Architecture, os: info.Os, layers: info.Layers }, { digest: image.manifest.digest, arch: 'arm64', os: 'linux', layers: [image.layer.digest] });

    // skopeo copy reads and verifies every blob (--preserve-digests: it would gzip the layer);
    // then our store must read skopeo's layout back.
    const copyDir = join(await tempDir(), 'copy');
    await mkdir(copyDir);
    const copied = await run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--preserve-digests', `oci:${store.dir}:v1`, `oci:${copyDir}:copied`]);
    assert.equal(copied.code, 0, copied.stderr);
    const back = await OciLayoutStore.open(copyDir);
    assert.deepEqual(await back.resolve('copied'), { ...image.manifest, annotations: { [ANNOTATION_REF_NAME]: 'copied' } });
    assert.deepEqual((await back.getManifest(image.manifest.digest)).bytes, image.manifestBytes);
    assert.deepEqual(await readAll(await back.getBlob(image.layer)), await readAll(await store.getBlob(image.layer)));
  });
});

describe('OciLayoutStore beside other writers', () => {
  it('keeps every tag that two stores of one folder write at once', async () => {
    const first = await newStore();
    const second = await OciLayoutStore.open(first.dir, { create: true });
    const config = configBlob();
    const tags = Array.from({ length: 16 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    await Promise.all(tags.map((tag, i) => (i % 2 ? first : second).putManifest(manifestBytes({ config: config.descriptor, layers: [], annotations: { tag } }), MediaType.OciManifest, tag)));
    const pages: string[][] = [];
    for await (const page of first.listTags()) pages.push(page.names);
    assert.deepEqual(pages.flat(), tags);
    assert.deepEqual((await readdir(first.dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
  });

  it('makes a layout in an empty folder, and refuses a folder that holds other files but no oci-layout', async () => {
    const empty = await tempDir();
    assert.deepEqual((await (await OciLayoutStore.open(empty, { create: true })).readIndex()).manifests, []);
    const other = await tempDir();
    await writeFile(join(other, 'notes.txt'), 'not an image');
    await assertRejectsCode(OciLayoutStore.open(other, { create: true }), { code: 'INVALID_ARGUMENT', includes: [other, 'not empty', 'oci-layout'] });
    assert.deepEqual(await readdir(other), ['notes.txt'], 'nothing written');
  });

  it('says no to a blob file of the wrong size, and stores the blob over it', async () => {
    const store = await newStore();
    const b = blob('the whole content\n');
    await writeFile(blobPath(store, b.descriptor), 'the whole');
    assert.equal(await store.hasBlob(b.descriptor), false);
    assert.equal(await store.putBlob(b.descriptor, async () => streamOf(b.bytes)), 'uploaded');
    assert.deepEqual(await readFile(blobPath(store, b.descriptor)), b.bytes);
  });

  it('sweeps the temporary files of dead writers when opened to write, never those of a live one', async () => {
    const store = await newStore();
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    const dead = { ...currentOwner(), pid: child.pid! };
    const hours = (n: number): Date => new Date(Date.now() - n * 3600_000);
    const files = [
      { name: `.lazyimg-tmp-${ownerTag(dead)}-00ff`, swept: true },
      { name: `.lazyimg-tmp-${ownerTag()}-00ff`, mtime: hours(48), swept: false }, // alive, however old
      { name: `.lazyimg-tmp-ffffffff-1-2-00ff`, swept: false }, // another host: cannot tell yet
      { name: `.lazyimg-tmp-ffffffff-1-2-11ff`, mtime: hours(7), swept: true },
      { name: '.lazyimg-tmp-0123456789abcdef', swept: false }, // no owner in the name
      { name: '.lazyimg-tmp-fedcba9876543210', mtime: hours(7), swept: true },
      { name: `${LAYOUT_LOCK}.broken-0123`, mtime: hours(2), swept: true },
    ];
    for (const f of files) {
      await writeFile(join(store.dir, f.name), 'partial');
      if (f.mtime) await utimes(join(store.dir, f.name), f.mtime, f.mtime);
    }
    // A writer of this process is halfway through a blob meanwhile.
    const b = blob(Buffer.alloc(256 * 1024, 7));
    const source = new PassThrough();
    const writing = store.putBlob(b.descriptor, async () => source);
    source.write(b.bytes.subarray(0, 1000));
    while (!(await readdir(store.dir)).some((n) => n.startsWith(`.lazyimg-tmp-${ownerTag()}-`) && !n.endsWith('-00ff'))) await new Promise((r) => setTimeout(r, 5));

    await OciLayoutStore.open(store.dir, { create: true });
    const left = await readdir(store.dir);
    for (const f of files) assert.equal(left.includes(f.name), !f.swept, f.name);
    source.end(b.bytes.subarray(1000));
    assert.equal(await writing, 'uploaded');
    assert.deepEqual(await readAll(await store.getBlob(b.descriptor)), b.bytes);
  });
});

describe('verify on a layout', () => {
  const parts: Array<{ name: string; pick: (image: Awaited<ReturnType<typeof storeImage>>) => Descriptor }> = [
    { name: 'layer', pick: (image) => image.layer },
    { name: 'config', pick: (image) => image.config },
    { name: 'manifest', pick: (image) => image.manifest },
  ];
  for (const c of parts) {
    it(`names a ${c.name} blob changed on disk to other bytes of the same size, and the layout`, async () => {
      const store = await newStore();
      const image = await storeImage(store, { tag: 'v1' });
      const bad = c.pick(image);
      const bytes = await readFile(blobPath(store, bad));
      bytes[bytes.length - 2]! ^= 0x01;
      await writeFile(blobPath(store, bad), bytes);
      assert.equal(await store.hasBlob(bad), true, 'the size alone does not tell');
      const report = await verifyImage(store, 'v1');
      assert.equal(report.ok, false);
      const problem = report.problems.find((p) => p.digest === bad.digest);
      assert.ok(problem, JSON.stringify(report.problems));
      assert.equal(problem.code, 'DIGEST_MISMATCH');
      assert.ok(problem.message.includes(bad.digest) && problem.message.includes(store.dir), problem.message);
    });
  }
});
