// The converter on edge-case layers made by Python's tarfile: the blob must decompress to the same
// file tree (read back by tarfile, not by us), with a TOC that describes it exactly, and pass our
// full verification. The Go library's verdict on the same cases is in test/integration/estargz.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { describeLayout } from '../../../src/core/estargz/layout.js';
import { openEstargz } from '../../../src/core/estargz/open.js';
import type { TocEntry } from '../../../src/core/estargz/toc.js';
import { cleanEntryName } from '../../../src/core/tar/index.js';
import { checkEstargzLayer } from '../../../src/core/lazy/index.js';
import { assertRejectsCode } from '../helpers/errors.js';
import { useTempDirs } from '../helpers/tmp.js';
import { access, convert, dumpTar, layerOf, makeTar, treeOf, type DumpedEntry } from './helpers.js';

const tempDir = useTempDirs('lazyimg-estargz-');
const MIB = 1024 * 1024;
const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function convertAndOpen(tar: Buffer, options: Parameters<typeof convert>[2] = {}) {
  const { built, blob } = await convert(tar, await tempDir(), options);
  const opened = await openEstargz(access(blob), 'test');
  return { built, blob, opened, toc: opened.toc.entries };
}

function withoutEstargzFiles(tree: Map<string, DumpedEntry>): Map<string, DumpedEntry> {
  const out = new Map(tree);
  for (const name of ['.no.prefetch.landmark', '.prefetch.landmark', 'stargz.index.json']) out.delete(name);
  return out;
}

describe('eStargz conversion', () => {
  for (const [fixture, compress] of [['edge', true], ['gnu', false], ['plain', true]] as const) {
    it(`keeps the file tree of a ${fixture === 'gnu' ? 'GNU' : 'PAX'} layer (${compress ? 'gzip' : 'plain tar'} source, ${fixture === 'plain' ? 'one pass' : 'a path twice: two passes'})`, async () => {
      const tar = await makeTar(fixture);
      const { built, blob } = await convertAndOpen(compress ? gzipSync(tar) : tar);
      assert.equal(built.sourceCompression, compress ? 'gzip' : 'none');
      assert.equal(built.passes, fixture === 'plain' ? 1 : 2);
      const ours = await dumpTar(blob);
      assert.equal(ours[0]!.name, '.no.prefetch.landmark', 'the no-prefetch landmark comes first');
      assert.equal(ours[ours.length - 1]!.name, 'stargz.index.json', 'the TOC is the last entry');
      assert.deepEqual(withoutEstargzFiles(treeOf(ours)), treeOf(await dumpTar(tar)));
    });
  }

  for (const fixture of ['edge', 'plain']) it(`writes a TOC that describes every entry as the tar has it (${fixture})`, async () => {
    const tar = await makeTar(fixture);
    const { toc } = await convertAndOpen(tar);
    const source = treeOf(await dumpTar(tar));
    const files = toc.filter((e) => e.type !== 'chunk' && !cleanEntryName(e.name).includes('landmark'));
    assert.equal(files.length, source.size);
    for (const e of files) {
      const s = source.get(cleanEntryName(e.name));
      assert.ok(s, `${e.name} is in the source`);
      assert.equal(e.type, s.type, e.name);
      assert.equal(e.mode ?? 0, s.mode, `${e.name} mode`);
      assert.equal(e.uid ?? 0, s.uid, `${e.name} uid`);
      assert.equal(e.gid ?? 0, s.gid, `${e.name} gid`);
      assert.equal(e.linkName ?? '', s.linkname, `${e.name} link`);
      assert.equal(e.devMajor ?? 0, s.type === 'char' || s.type === 'block' ? s.devmajor : 0, `${e.name} major`);
      assert.equal(e.devMinor ?? 0, s.type === 'char' || s.type === 'block' ? s.devminor : 0, `${e.name} minor`);
      assert.equal(e.modtime, s.mtime === 0 ? undefined : new Date(s.mtime * 1000).toISOString().replace('.000Z', 'Z'), `${e.name} mtime`);
      if (e.type === 'reg') {
        assert.equal(e.size ?? 0, s.size, `${e.name} size`);
        assert.equal(e.digest, `sha256:${s.sha256}`, `${e.name} digest`);
      }
      const xattrs = Object.fromEntries([...(e.xattrs ?? new Map<string, Buffer>())].map(([k, v]) => [k, v.toString('base64')]));
      assert.deepEqual(xattrs, s.xattrs, `${e.name} xattrs`);
    }
    const byName = new Map(toc.map((e) => [e.name, e]));
    assert.equal(byName.get('app/bin/server')!.userName, 'app', 'user names are written where they first appear');
    assert.equal(byName.get('app/bin/server-link')!.userName, undefined, 'and not again for the same uid');
  });

  for (const fixture of ['edge', 'plain']) it(`cuts files into 4 MiB chunks: a file of exactly 4 MiB is one, 4 MiB + 1 is two (${fixture})`, async () => {
    const tar = await makeTar(fixture);
    const { toc, built } = await convertAndOpen(tar);
    const at = (name: string): TocEntry[] => {
      const i = toc.findIndex((e) => e.name === name);
      const out = [toc[i]!];
      for (let j = i + 1; toc[j]?.type === 'chunk'; j++) out.push(toc[j]!);
      return out;
    };
    const exact = at('app/exact-4mib');
    assert.equal(exact.length, 1);
    assert.equal(exact[0]!.chunkSize, 4 * MIB, 'a full-size piece records its size');
    assert.equal(exact[0]!.chunkDigest, exact[0]!.digest);
    const plus = at('app/4mib-plus-1');
    assert.deepEqual(plus.map((e) => [e.type, e.chunkOffset, e.chunkSize]), [['reg', undefined, 4 * MIB], ['chunk', 4 * MIB, undefined]]);
    assert.notEqual(plus[0]!.offset, plus[1]!.offset, 'each chunk is its own gzip member');
    const empty = at('app/empty')[0]!;
    assert.deepEqual([empty.size, empty.offset, empty.chunkDigest, empty.digest], [undefined, undefined, undefined, sha(Buffer.alloc(0))]);
    assert.equal(built.entries, toc.length);
  });

  for (const fixture of ['edge', 'plain']) it(`passes its own full verification, every chunk checked (${fixture})`, async () => {
    const { blob, built, opened } = await convertAndOpen(await makeTar(fixture));
    const report = await checkEstargzLayer(access(blob), layerOf(blob, { 'containerd.io/snapshot/stargz/toc.digest': built.tocDigest, 'io.containers.estargz.uncompressed-size': String(built.uncompressedSize) }), 'test');
    assert.deepEqual(report.problems, []);
    assert.equal(report.lazy, true);
    assert.equal(report.chunksVerified, describeLayout(opened.toc, opened.footer.tocOffset).chunks);
    assert.equal(built.tocDigest, sha(opened.json));
  });

  for (const [fixture, prioritized] of [['plain', []], ['edge', []], ['edge', ['app/text']]] as const) {
    it(`records the DiffID and size of the whole uncompressed stream (${fixture}, ${prioritized.length ? 'entries moved' : 'tar order'})`, async () => {
      const { blob, built } = await convertAndOpen(await makeTar(fixture), { prioritized: [...prioritized] });
      const plain = gunzipSync(blob);
      assert.equal(built.diffId, sha(plain));
      assert.equal(built.uncompressedSize, plain.length);
      assert.equal(built.digest, sha(blob));
      assert.equal(built.size, blob.length);
    });
  }

  it('resolves a prioritized path through symbolic links of the layer (/bin/bash on a usr-merged root) and puts the file first', async () => {
    const { toc, built } = await convertAndOpen(await makeTar('usrmerged'), { prioritized: ['/bin/bash', '/lib/libc.so.6', '/bin/sh', '/sbin/nothing'] });
    const names = toc.filter((e) => e.type !== 'chunk').map((e) => e.name);
    const landmark = names.indexOf('.prefetch.landmark');
    assert.deepEqual(names.slice(0, landmark), ['./', 'usr/', 'usr/bin/', 'usr/bin/bash', 'usr/lib/', 'usr/lib/libc.so.6']);
    assert.deepEqual(built.missing, ['/sbin/nothing'], 'a path that leads nowhere is missing; /bin/sh leads to bash, already first');
    assert.ok(names.indexOf('bin') > landmark, 'the links themselves keep their place');
  });

  it('puts prioritized files first, after their parents and hard-link targets, then the prefetch landmark', async () => {
    const { toc, built } = await convertAndOpen(await makeTar('edge'), { prioritized: ['app/bin/server-link', '/app/text', 'not/there'] });
    const names = toc.filter((e) => e.type !== 'chunk').map((e) => e.name);
    assert.deepEqual(names.slice(0, 7), ['./', 'app/', 'app/bin/', 'app/bin/server', 'app/bin/server-link', 'app/text', '.prefetch.landmark']);
    assert.deepEqual(built.missing, ['not/there']);
    const layout = describeLayout({ version: 1, entries: toc }, 0);
    assert.equal(layout.prefetch.kind, 'landmark');
  });

  it('keeps the later of two entries for one path, at the later position', async () => {
    const tar = await makeTar('edge');
    const { toc, blob } = await convertAndOpen(tar);
    const dups = toc.filter((e) => cleanEntryName(e.name) === 'etc/dup' || cleanEntryName(e.name) === 'etc/dup2');
    assert.deepEqual(dups.map((e) => e.name), ['etc/dup', 'etc/dup2'], 'one entry each, the later spelling');
    const ours = treeOf(await dumpTar(blob));
    assert.equal(ours.get('etc/dup')!.sha256, createHash('sha256').update('second version, kept\n').digest('hex'));
    const names = toc.map((e) => e.name);
    assert.ok(names.indexOf('etc/dup') > names.indexOf('etc/old-mtime') - 3 && names.indexOf('etc/dup') > names.indexOf('etc/opaque/.wh..wh..opq'));
  });

  it('converts an empty layer to a landmark and a TOC', async () => {
    const { toc, blob, built } = await convertAndOpen(await makeTar('empty'));
    assert.deepEqual(toc.map((e) => e.name), ['.no.prefetch.landmark']);
    const report = await checkEstargzLayer(access(blob), layerOf(blob, { 'containerd.io/snapshot/stargz/toc.digest': built.tocDigest }), 'test');
    assert.deepEqual(report.problems, []);
  });

  for (const fixture of ['edge', 'plain']) it(`gives the same bytes every time, at any level (${fixture})`, async () => {
    const tar = await makeTar(fixture);
    const a = await convertAndOpen(tar);
    const b = await convertAndOpen(tar);
    assert.equal(a.built.digest, b.built.digest);
    const fast = await convertAndOpen(tar, { level: 1 });
    assert.notEqual(fast.built.digest, a.built.digest);
    assert.equal(fast.built.tocDigest === a.built.tocDigest, false, 'offsets differ, so the TOC does');
    assert.deepEqual(withoutEstargzFiles(treeOf(await dumpTar(fast.blob))), treeOf(await dumpTar(tar)));
  });

  it('honours a smaller chunk size', async () => {
    const { toc } = await convertAndOpen(await makeTar('edge'), { chunkSize: MIB });
    assert.equal(toc.filter((e) => e.type === 'chunk' && e.name === 'app/4mib-plus-1').length, 4);
  });
});

describe('eStargz conversion of bad input', () => {
  it('reports a truncated gzip layer', async () => {
    const gz = gzipSync(await makeTar('edge'));
    await assertRejectsCode(convert(gz.subarray(0, gz.length >> 1), await tempDir()), { code: 'INVALID_FORMAT', includes: ['test layer', 'truncated'] });
  });

  it('reports a corrupt tar header with its offset', async () => {
    const tar = Buffer.from(await makeTar('edge'));
    const second = 512; // the header after "./"
    tar[second + 10] = tar[second + 10]! ^ 0xff;
    await assertRejectsCode(convert(tar, await tempDir()), { code: 'INVALID_FORMAT', includes: ['corrupt tar header at byte 512'] });
  });

  it('reports a tar cut inside a file', async () => {
    const tar = await makeTar('edge');
    await assertRejectsCode(convert(tar.subarray(0, 3 * MIB), await tempDir()), { code: 'INVALID_FORMAT', includes: ['truncated inside a file'] });
  });

  it('refuses garbage that is neither gzip nor tar', async () => {
    await assertRejectsCode(convert(Buffer.from('this is not a layer at all, just text'.repeat(20)), await tempDir()), { code: 'INVALID_FORMAT', includes: ['test layer'] });
  });

  it('refuses levels and chunk sizes out of range', async () => {
    const tar = await makeTar('empty');
    await assertRejectsCode(convert(tar, await tempDir(), { level: 0 }), { code: 'INVALID_ARGUMENT', includes: ['level 0'] });
    await assertRejectsCode(convert(tar, await tempDir(), { chunkSize: 0 }), { code: 'INVALID_ARGUMENT', includes: ['chunk size 0'] });
  });
});
