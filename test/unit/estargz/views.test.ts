// What the editor shows of eStargz: a layer's TOC as folders (FileTree over the layer's lazy
// reader), plain data built from real conversions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { footerBytes, type OpenedEstargz, type Toc } from '../../../src/core/estargz/index.js';
import { EstargzLayer, openEstargzLayer } from '../../../src/core/lazy/index.js';
import { FileTree } from '../../../src/extension/tree/FileTree.js';
import { useTempDirs } from '../helpers/tmp.js';
import { access, convert, makeTar } from './helpers.js';

const tempDir = useTempDirs('lazyimg-estargz-views-');

describe('TOC as folders', () => {
  it('lists directories first, counts chunks and marks what is prefetched', async () => {
    const { blob } = await convert(await makeTar('plain'), await tempDir(), { prioritized: ['app/bin/server'] });
    const layer = await openEstargzLayer(access(blob), { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: 'sha256:x', size: blob.length }, 't');
    const tree = new FileTree(layer);
    assert.deepEqual(tree.children(''), ['app', 'dev', 'etc', '.prefetch.landmark']);
    assert.equal(tree.get('app/bin/server')?.prefetched, true);
    assert.equal(tree.get('app/text')?.prefetched, false);
    assert.deepEqual(['app/4mib-plus-1', 'app/exact-4mib', 'app/empty'].map((p) => tree.get(p)?.chunks), [2, 1, 0]);
    assert.equal(tree.get('app/link-to-text')?.linkname, 'text');
  });

  it('implies missing parent directories and keeps the later entry for a path', () => {
    const toc: Toc = { version: 1, entries: [
      { name: 'x/y/z', type: 'reg', size: 1 },
      { name: 'x/y/z', type: 'symlink', linkName: 'elsewhere' },
    ] };
    const blob = footerBytes(0);
    const opened: OpenedEstargz = { footer: { tocOffset: 0, size: 51, legacy: false }, tocSize: 0, json: Buffer.alloc(0), toc, tocDigest: 'sha256:0' };
    const tree = new FileTree(new EstargzLayer(access(blob), { mediaType: 'm', digest: 'sha256:x', size: blob.length }, opened, 't'));
    assert.deepEqual([tree.get('x')?.type, tree.get('x')?.implied, tree.get('x/y')?.type], ['dir', true, 'dir']);
    assert.deepEqual(tree.children('x/y'), ['z']);
    assert.equal(tree.get('x/y/z')?.type, 'symlink');
  });
});

