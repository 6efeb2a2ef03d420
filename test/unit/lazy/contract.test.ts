// One contract for every lazy layer reader: the same layer, made lazy as eStargz (1 MiB chunks)
// and through a SOCI zTOC (1 MiB spans), must list, resolve and read the same way: symbolic links
// in any component (absolute, relative, with `..`, never above the root, loops refused), hard
// links, a missing path, a directory, a range read, and an honest count of the bytes fetched.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { laziness, resolveImage } from '../../../src/core/image/index.js';
import { buildSociIndexes, convertImage } from '../../../src/core/jobs/index.js';
import { openLazyLayer, type LazyIndex, type LazyLayer } from '../../../src/core/lazy/index.js';
import { writeImage, type Descriptor, type ImageStore, type OciLayoutStore } from '../../../src/core/oci/index.js';
import type { TarEntry } from '../../../src/core/tar/index.js';
import { tempLayout } from '../../helpers/images.js';
import { assertRejectsCode } from '../helpers/errors.js';

const MiB = 1024 * 1024;
const release = Buffer.from('PRETTY_NAME="Lazy Linux"\n');
const big = randomBytes(3 * MiB + 12345);

const entries: TarEntry[] = [
  { name: 'etc/', type: 'directory' },
  { name: 'etc/os-release', type: 'file', content: release },
  { name: 'etc/hard', type: 'hardlink', linkname: 'etc/os-release' },
  { name: 'etc/absolute', type: 'symlink', linkname: '/etc/os-release' },
  { name: 'etc/up-and-over', type: 'symlink', linkname: '../usr/lib/big.bin' },
  { name: 'usr/', type: 'directory' },
  { name: 'usr/lib/', type: 'directory' },
  { name: 'usr/lib/big.bin', type: 'file', content: big },
  { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
  { name: 'escape', type: 'symlink', linkname: '../../../../etc/os-release' },
  { name: 'loop-a', type: 'symlink', linkname: 'loop-b' },
  { name: 'loop-b', type: 'symlink', linkname: '/loop-a' },
];

/** The store, counting the bytes of every range read through it. */
function counting(store: ImageStore): { store: ImageStore; bytes: () => number } {
  let bytes = 0;
  const wrapped = Object.create(store) as ImageStore;
  wrapped.readBlobRange = async (d, offset, length, o) => {
    const b = await store.readBlobRange(d, offset, length, o);
    bytes += b.length;
    return b;
  };
  return { store: wrapped, bytes: () => bytes };
}

describe('LazyLayer contract', () => {
  let layout: OciLayoutStore;
  const readers = new Map<string, { layer: LazyLayer; fetched: () => number; size: number }>();

  before(async () => {
    layout = await tempLayout('lazyimg-lazy-contract-');
    await writeImage(layout, [{ entries }], { tag: 'src' });
    await convertImage(layout, 'src', layout, 'esgz', { chunkSize: MiB });
    await buildSociIndexes(layout, 'src', layout, 'soci', { spanSize: MiB, minLayerSize: 0 });
    for (const [tag, via] of [['esgz', 'estargz'], ['soci', 'soci']] as const) {
      const { root, image } = await resolveImage(layout, tag, 'test');
      const [layer] = (await laziness(layout, image, { root })).layers;
      const index: LazyIndex = via === 'soci' ? { via, ztoc: layer!.soci!.ztoc } : { via };
      const meter = counting(layout);
      const descriptor: Descriptor = layer!.descriptor;
      readers.set(via, { layer: await openLazyLayer(meter.store, descriptor, index, `${tag} layer 1/1`), fetched: meter.bytes, size: descriptor.size });
    }
  });
  after(async () => {
    await rm(layout.dir, { recursive: true, force: true });
  });

  for (const via of ['estargz', 'soci'] as const) {
    describe(via, () => {
      const reader = (): { layer: LazyLayer; fetched: () => number; size: number } => readers.get(via)!;

      it('lists every entry once, by clean path, with its type, size and link', () => {
        const { layer } = reader();
        const listed = new Map([...layer.entries()].map((e) => [e.path, e]));
        for (const path of ['etc', 'etc/os-release', 'etc/hard', 'usr/lib/big.bin', 'lib', 'loop-a']) assert.ok(listed.has(path), path);
        assert.equal(listed.get('usr/lib/big.bin')?.size, big.length);
        assert.equal(listed.get('lib')?.type, 'symlink');
        assert.equal(listed.get('lib')?.linkname, 'usr/lib');
        assert.equal(listed.get('etc/hard')?.type, 'hardlink');
        assert.equal(layer.via, via);
      });

      it('follows symbolic links in any component: relative, absolute, with .., clamped at the root', async () => {
        const { layer } = reader();
        assert.ok((await layer.read('/lib/big.bin')).bytes.equals(big), 'a folder that is a link');
        assert.ok((await layer.read('etc/absolute')).bytes.equals(release));
        assert.ok((await layer.read('etc/up-and-over')).bytes.equals(big));
        assert.ok((await layer.read('/escape')).bytes.equals(release), 'no climbing above the root');
        assert.equal((await layer.resolve('lib/../../etc/os-release')).path, 'etc/os-release', '.. after a link climbs from its target (usr/lib)');
        await assertRejectsCode(layer.resolve('lib/../etc/os-release'), { code: 'NOT_FOUND', includes: ['/usr/etc/os-release'] });
        await assertRejectsCode(layer.resolve('loop-a'), { code: 'INVALID_FORMAT', includes: ['more than 40 symbolic links'] });
      });

      it('reads a hard link as its target', async () => {
        const { layer } = reader();
        const read = await layer.read('etc/hard');
        assert.ok(read.bytes.equals(release));
        assert.equal((await layer.resolve('etc/hard')).path, 'etc/os-release');
      });

      it('names a missing path and refuses to read a folder', async () => {
        const { layer } = reader();
        await assertRejectsCode(layer.read('etc/nothing-here'), { code: 'NOT_FOUND', includes: ['/etc/nothing-here'] });
        await assertRejectsCode(layer.read('lib/nothing-here'), { code: 'NOT_FOUND', includes: ['/usr/lib/nothing-here'] });
        await assertRejectsCode(layer.read('lib'), { code: 'INVALID_ARGUMENT', includes: ['/usr/lib is a directory'] });
        assert.equal((await layer.resolve('lib')).type, 'dir');
      });

      it('reads a range through only what holds it, and counts exactly what it fetched', async () => {
        const { layer, fetched, size } = reader();
        const before = fetched();
        const read = await layer.read('usr/lib/big.bin', { offset: 1.5 * MiB, length: 100_000 });
        assert.ok(read.bytes.equals(big.subarray(1.5 * MiB, 1.5 * MiB + 100_000)));
        assert.equal(read.fetched, fetched() - before, 'fetched is what the store was asked for');
        assert.ok(read.fetched < size / 2, `fetched ${read.fetched} of a ${size}-byte layer`);
        const tail = await layer.read('usr/lib/big.bin', { offset: big.length - 10, length: 1000 });
        assert.ok(tail.bytes.equals(big.subarray(big.length - 10)), 'a range past the end is cut at the end');
        const whole = await layer.read('usr/lib/big.bin');
        assert.ok(whole.bytes.equals(big));
        assert.ok(whole.fetched > read.fetched);
      });
    });
  }
});
