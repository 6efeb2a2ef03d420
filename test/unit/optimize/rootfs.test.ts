import assert from 'node:assert/strict';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { writeImage } from '../../../src/core/oci/index.js';
import { unpackLayers, type UnpackedRoot } from '../../../src/core/optimize/rootfs.js';
import type { TarEntry } from '../../../src/core/tar/index.js';
import { tempLayout } from '../../helpers/images.js';
import { useTempDirs } from '../helpers/tmp.js';

const tempDir = useTempDirs('lazyimg-rootfs-');
const T = 1_700_000_000;
const dir = (name: string, mode = 0o755): TarEntry => ({ name, type: 'directory', mode, mtime: T });
const file = (name: string, body: string, mode = 0o644): TarEntry => ({ name, type: 'file', mode, mtime: T + 1, content: Buffer.from(body) });
const link = (name: string, target: string): TarEntry => ({ name, type: 'symlink', linkname: target, mtime: T + 2 });
const whiteout = (name: string): TarEntry => ({ name, type: 'file', mode: 0o644, mtime: T });

const BASE: TarEntry[] = [
  dir('usr'), dir('usr/bin'), file('usr/bin/a', 'a1', 0o4755), link('bin', 'usr/bin'),
  // Links that lead out of the root, were they followed from the host's /.
  link('evil', '/'), link('up', '../../..'),
  dir('gone'), file('gone/x', 'x'),
  dir('keep'), file('keep/lower', 'lower'),
  file('f', 'a file, then a folder'),
  dir('ro', 0o555), file('ro/inside', 'in'),
  { ...file('usr/bin/g', 'setgid, group 42', 0o2755), uid: 0, gid: 42 },
];
const TOP: TarEntry[] = [
  file('bin/b', 'through the link'),
  file('evil/etc/pwned', 'stays inside'),
  file('up/escape', 'stays inside'),
  whiteout('.wh.gone'),
  file('keep/upper', 'upper'),
  whiteout('keep/.wh..wh..opq'),
  dir('f'), file('f/child', 'c'),
  { name: 'usr/bin/a-link', type: 'hardlink', linkname: 'usr/bin/a' },
  file('usr/bin/a', 'a2', 0o755),
  file('ro/added', 'a later layer writes into a read-only folder'),
];

describe('unpackLayers', () => {
  let root: UnpackedRoot;
  let parent: string;
  before(async () => {
    const store = await tempLayout();
    const image = await writeImage(store, [{ entries: BASE }, { entries: TOP }]);
    parent = await tempDir();
    root = await unpackLayers(store, image.layers, join(parent, 'rootfs'), 'test image');
  });

  it('applies layers from the base up: whiteouts, opaque folders, a file replaced by a folder', async () => {
    const list = async (p: string): Promise<string[]> => (await readdir(join(root.dir, p))).sort();
    assert.deepEqual(await list(''), ['bin', 'escape', 'etc', 'evil', 'f', 'keep', 'ro', 'up', 'usr']);
    assert.deepEqual(await list('keep'), ['upper']);
    assert.deepEqual(await list('f'), ['child']);
    assert.deepEqual(await list('usr/bin'), ['a', 'a-link', 'b', 'g']);
    assert.deepEqual(await list('ro'), ['added', 'inside']);
    assert.equal(((await lstat(join(root.dir, 'ro'))).mode & 0o7777), 0o555);
  });

  it('resolves links inside the root, never from the host\'s /', async () => {
    assert.equal(await readFile(join(root.dir, 'usr/bin/b'), 'utf8'), 'through the link');
    assert.equal(await readFile(join(root.dir, 'etc/pwned'), 'utf8'), 'stays inside');
    assert.equal(await readFile(join(root.dir, 'escape'), 'utf8'), 'stays inside');
    assert.deepEqual((await readdir(parent)).sort(), ['rootfs']);
    assert.equal(await readlink(join(root.dir, 'evil')), '/');
  });

  it('keeps modes, times and hard links', async () => {
    const a = await lstat(join(root.dir, 'usr/bin/a'));
    assert.equal(a.mode & 0o7777, 0o755);
    assert.equal(a.mtimeMs, (T + 1) * 1000);
    // The link was made in the top layer before it replaced usr/bin/a: it keeps the base's file.
    const linked = await lstat(join(root.dir, 'usr/bin/a-link'));
    assert.equal(linked.mode & 0o7777, 0o4755);
    assert.equal(await readFile(join(root.dir, 'usr/bin/a-link'), 'utf8'), 'a1');
    assert.equal((await lstat(join(root.dir, 'bin'))).mtimeMs, (T + 2) * 1000);
    // As root, the owner too, and the setgid bit that a change of owner would clear if it came last.
    if (process.getuid?.() === 0) {
      const g = await lstat(join(root.dir, 'usr/bin/g'));
      assert.deepEqual([g.mode & 0o7777, g.gid], [0o2755, 42]);
    }
  });

  it('names the topmost layer that lists a path', () => {
    const cases: Array<[string, number | undefined]> = [
      ['usr/bin/a', 2], ['/usr/bin/a-link', 2], ['usr/bin/b', undefined], ['bin/b', 2], ['keep/upper', 2],
      ['ro/inside', 1], ['usr', 1], ['gone/x', 1], ['etc/pwned', undefined], ['nothing', undefined],
    ];
    for (const [path, want] of cases) assert.equal(root.provider(path), want, path);
  });
});
