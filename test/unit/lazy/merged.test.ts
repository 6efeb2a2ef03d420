// The merged root of a small 4-layer image, made lazy by our convert (eStargz) and our indexer
// (SOCI): whiteouts, opaque folders, files replacing folders and back, implied folders, hard
// links, links resolved inside the image; and the layers without an index as named gaps.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { laziness, resolveImage } from '../../../src/core/image/index.js';
import { buildSociIndexes, catFile, convertImage } from '../../../src/core/jobs/index.js';
import { globMatcher, MergedTree } from '../../../src/core/lazy/index.js';
import { writeImage, type OciLayoutStore } from '../../../src/core/oci/index.js';
import type { TarEntry } from '../../../src/core/tar/index.js';
import { tempLayout } from '../../helpers/images.js';
import { assertRejectsCode } from '../helpers/errors.js';

const file = (name: string, text: string, mode = 0o644): TarEntry => ({ name, type: 'file', content: Buffer.from(text), mode });
const dir = (name: string, mode = 0o755): TarEntry => ({ name, type: 'directory', mode });
const link = (name: string, linkname: string): TarEntry => ({ name, type: 'symlink', linkname, mode: 0o777 });

const layers: TarEntry[][] = [
  [
    dir('etc/'), file('etc/passwd', 'root:x:0:0\n'), file('etc/keep', 'keep'), file('etc/gone', 'gone'),
    dir('usr/', 0o700), dir('usr/lib/'), file('usr/lib/libc.so', 'libc'), link('lib', 'usr/lib'),
    dir('var/cache/'), file('var/cache/a', 'a'), file('var/cache/b/c', 'c'),
    dir('data/'), file('data/sub/f', 'f'), file('data/kept', 'kept'),
    dir('swap/'), file('swap/inner', 'inner'), file('file2dir', 'was a file'), dir('opt/'), file('opt/x', 'x'),
  ],
  [
    file('etc/.wh.gone', ''), file('etc/passwd', 'root:x:0:0:new\n', 0o600),
    dir('var/cache/'), file('var/cache/.wh..wh..opq', ''), file('var/cache/new', 'new'),
    file('swap', 'now a file'), dir('file2dir/'), file('file2dir/child', 'child'),
    dir('hard/'), file('hard/orig', 'shared bytes', 0o750), { name: 'hard/link', type: 'hardlink', linkname: 'hard/orig' },
  ],
  [file('data/.wh.sub', ''), file('usr/lib/extra', 'extra')],
  [
    link('loop-a', 'loop-b'), link('loop-b', '/loop-a'), link('escape', '../../../../etc/passwd'), link('abs', '/lib/libc.so'),
    file('.wh.opt', ''), dir('opt/'), file('opt/y', 'y'),
  ],
];

/** What the container sees: path, type, size, mode, link target; the root left out. */
const expected = [
  'abs symlink 0 777 /lib/libc.so', 'data dir 0 755', 'data/kept reg 4 644',
  'escape symlink 0 777 ../../../../etc/passwd', 'etc dir 0 755', 'etc/keep reg 4 644', 'etc/passwd reg 15 600',
  'file2dir dir 0 755', 'file2dir/child reg 5 644', 'hard dir 0 755', 'hard/link reg 12 750', 'hard/orig reg 12 750',
  'lib symlink 0 777 usr/lib', 'loop-a symlink 0 777 loop-b', 'loop-b symlink 0 777 /loop-a', 'opt dir 0 755', 'opt/y reg 1 644',
  'swap reg 10 644', 'usr dir 0 700', 'usr/lib dir 0 755', 'usr/lib/extra reg 5 644', 'usr/lib/libc.so reg 4 644',
  'var dir 0 755', 'var/cache dir 0 755', 'var/cache/new reg 3 644',
];

describe('MergedTree', () => {
  let layout: OciLayoutStore;
  const trees = new Map<string, MergedTree>();
  const open = async (tag: string): Promise<MergedTree> => {
    const { root, image } = await resolveImage(layout, tag, 'test');
    return MergedTree.open(layout, await laziness(layout, image, { root }), `${layout.name}:${tag}`);
  };

  before(async () => {
    layout = await tempLayout('lazyimg-merged-');
    await writeImage(layout, layers.map((entries) => ({ entries })), { tag: 'src' });
    await convertImage(layout, 'src', layout, 'esgz', {});
    await buildSociIndexes(layout, 'src', layout, 'soci', { minLayerSize: 0 });
    for (const tag of ['esgz', 'soci']) trees.set(tag, await open(tag));
  });
  after(async () => {
    await rm(layout.dir, { recursive: true, force: true });
  });

  for (const tag of ['esgz', 'soci']) {
    describe(tag, () => {
      const tree = (): MergedTree => trees.get(tag)!;

      it('lists what the container sees, sorted, with no whiteout', () => {
        const listed = [...tree().entries()].map((e) => `${e.path} ${e.type} ${e.size} ${(e.mode & 0o777).toString(8)}${e.type === 'symlink' ? ` ${e.linkname}` : ''}`);
        assert.deepEqual(listed, expected);
        assert.deepEqual(tree().gaps, []);
      });

      it('says which layer each entry comes from; an implied folder keeps the real one below it', () => {
        const layerOf = (p: string): number | undefined => tree().stat(p)?.layer;
        assert.deepEqual(['etc/passwd', 'etc/keep', 'usr', 'usr/lib/extra', 'var/cache', 'swap', 'opt', 'opt/y', 'escape'].map(layerOf), [2, 1, 1, 3, 2, 2, 4, 4, 4]);
        assert.equal(tree().stat('')?.type, 'dir');
        assert.equal(tree().stat('/etc/')?.path, 'etc');
        assert.equal(tree().stat('hard/link')?.hardlink, 'hard/orig');
      });

      it('lists a folder\'s children by name, and refuses a file or a missing path', async () => {
        assert.deepEqual(tree().list('').map((e) => e.path), ['abs', 'data', 'escape', 'etc', 'file2dir', 'hard', 'lib', 'loop-a', 'loop-b', 'opt', 'swap', 'usr', 'var']);
        assert.deepEqual(tree().list('/var/cache').map((e) => e.path), ['var/cache/new']);
        assert.throws(() => tree().list('swap'), (e: Error & { code?: string }) => e.code === 'INVALID_ARGUMENT' && /swap is not a directory/.test(e.message));
        assert.throws(() => tree().list('etc/gone'), (e: Error & { code?: string }) => e.code === 'NOT_FOUND');
        await assertRejectsCode(tree().read('etc/gone'), { code: 'NOT_FOUND' });
        await assertRejectsCode(tree().read('data/sub/f'), { code: 'NOT_FOUND' });
        await assertRejectsCode(tree().read('var/cache/a'), { code: 'NOT_FOUND' });
        await assertRejectsCode(tree().read('swap/inner'), { code: 'NOT_FOUND' });
        await assertRejectsCode(tree().read('opt/x'), { code: 'NOT_FOUND' });
      });

      it('reads through links inside the image: symbolic across layers, hard to the target, never the host', async () => {
        const text = async (p: string): Promise<string> => (await tree().read(p)).bytes.toString();
        assert.equal(await text('escape'), 'root:x:0:0:new\n');
        assert.equal(await text('/lib/extra'), 'extra');
        assert.equal(await text('abs'), 'libc');
        assert.equal(await text('hard/link'), 'shared bytes');
        assert.equal((await tree().read('lib/libc.so', { offset: 1, length: 2 })).bytes.toString(), 'ib');
        const r = await tree().read('escape');
        assert.equal(r.path, 'etc/passwd');
        assert.equal(r.layer.index, 2);
        await assert.rejects(tree().read('loop-a'), (e: Error & { code?: string }) => e.code === 'INVALID_FORMAT' && /more than 40 symbolic links from \/loop-a/.test(e.message));
        await assertRejectsCode(tree().read('etc'), { code: 'INVALID_ARGUMENT' });
        const chunks: Buffer[] = [];
        const copied = await tree().copy('file2dir/child', async (c) => void chunks.push(c));
        assert.equal(Buffer.concat(chunks).toString(), 'child');
        assert.equal(copied.length, 5);
      });

      it('counts what it fetched, by layer: the index at open, then the reads', async () => {
        const fresh = await open(tag);
        const before = fresh.costs();
        assert.ok(before.every((c) => c.via === (tag === 'esgz' ? 'estargz' : 'soci') && c.fetched > 0));
        const read = await fresh.read('usr/lib/extra');
        const after = fresh.costs();
        assert.deepEqual(after.map((c, i) => c.fetched - before[i]!.fetched), [0, 0, read.fetched, 0]);
      });

      it('finds by name or path glob', () => {
        const paths = (glob: string, limit?: number): string[] => tree().find(glob, limit).map((e) => e.path);
        assert.deepEqual(paths('*.so'), ['usr/lib/libc.so']);
        assert.deepEqual(paths('{passwd,keep}'), ['etc/keep', 'etc/passwd']);
        assert.deepEqual(paths('usr/**'), ['usr/lib', 'usr/lib/extra', 'usr/lib/libc.so']);
        assert.deepEqual(paths('/**/c*'), ['var/cache', 'file2dir/child'].sort());
        assert.deepEqual(paths('loop-?', 1), ['loop-a']);
      });

      it('agrees with cat, which opens layers from the top only as far as a path needs', async () => {
        for (const p of ['escape', 'hard/link', 'lib/extra', 'swap']) {
          const chunks: Buffer[] = [];
          await catFile(layout, tag, p, async (c) => void chunks.push(c));
          assert.deepEqual(Buffer.concat(chunks), (await tree().read(p)).bytes, p);
        }
        await assertRejectsCode(catFile(layout, tag, 'etc/gone', async () => undefined), { code: 'NOT_FOUND' });
        const chunks: Buffer[] = [];
        await catFile(layout, tag, 'etc/gone', async (c) => void chunks.push(c), { layer: '1' });
        assert.equal(Buffer.concat(chunks).toString(), 'gone');
      });
    });
  }

  it('names the layers without an index as gaps and lists the others', async () => {
    const plain = await open('src');
    assert.deepEqual(plain.gaps.map((g) => [g.index, g.broken]), [[1, false], [2, false], [3, false], [4, false]]);
    assert.match(plain.gaps[0]!.reason, /^not lazy/);
    assert.deepEqual([...plain.entries()], []);
    await assert.rejects(plain.read('etc/passwd'), /not listed: layer 1, layer 2, layer 3, layer 4/);
    // SOCI indexes only layers of at least the minimum size: the small ones are gaps.
    const { image } = await resolveImage(layout, 'src', 'test');
    const sizes = image.manifest.layers.map((l) => l.size);
    await buildSociIndexes(layout, 'src', layout, 'soci-big', { minLayerSize: Math.min(...sizes) + 1 });
    const partly = await open('soci-big');
    const gapped = partly.gaps.map((g) => g.index);
    assert.ok(gapped.length > 0 && gapped.length < 4, `gaps ${gapped}`);
    assert.ok([...partly.entries()].every((e) => !gapped.includes(e.layer)));
  });

  it('matches globs as a shell does', () => {
    const cases: Array<[string, string, boolean]> = [
      ['*.conf', 'etc/a.conf', true], ['*.conf', 'etc/a.conf/x', false], ['etc/*', 'etc/a/b', false], ['etc/**', 'etc/a/b', true],
      ['**/b', 'b', true], ['a?c', 'x/abc', true], ['{x,y}.txt', 'd/y.txt', true], ['[ab]*', 'd/bc', true], ['[!ab]*', 'd/bc', false],
      ['a.b', 'axb', false], ['(x)', '(x)', true],
    ];
    for (const [glob, path, want] of cases) assert.equal(globMatcher(glob)(path), want, `${glob} ${path}`);
  });
});
