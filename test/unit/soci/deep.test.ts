// verify --deep on SOCI: a zTOC that lies about a file or a checkpoint, re-addressed so that every
// digest matches (which is all soci-snapshotter checks at mount, besides self-consistency), is
// caught by rebuilding the zTOC from the layer, with the field and the file or span named. Each
// lie here is one flipped bit (or one zeroed window) in the zTOC's bytes.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { verifyImage } from '../../../src/core/jobs/index.js';
import { sha256, type OciLayoutStore } from '../../../src/core/oci/index.js';
import { LAYER_DIGEST_ANNOTATION, SPAN_SIZE_ANNOTATION } from '../../../src/core/soci/manifest.js';
import { decodeGzipZinfo, encodeGzipZinfo, WINDOW_SIZE } from '../../../src/core/soci/zinfo.js';
import { decodeZtoc, encodeZtoc, type Ztoc, type ZtocEntry } from '../../../src/core/soci/ztoc.js';
import { tempLayout } from '../../helpers/images.js';
import { sociImage, withZtocBytes, type SociImage } from '../../helpers/sociImage.js';
import { makeTar } from '../estargz/helpers.js';
import { pseudoRandomBytes } from '../../../scripts/sampleImage.js';

const SPAN = 64 * 1024;

/** How many bits differ between two buffers of one length. */
function bitsChanged(a: Buffer, b: Buffer): number {
  assert.equal(a.length, b.length, 'the same length');
  let n = 0;
  for (let i = 0; i < a.length; i++) for (let x = a[i]! ^ b[i]!; x; x &= x - 1) n++;
  return n;
}

describe('verify --deep on SOCI zTOCs', () => {
  let store: OciLayoutStore;
  let fixture: SociImage;
  let ztoc: Ztoc;
  let n = 0;

  before(async () => {
    store = await tempLayout('lazyimg-soci-deep-');
    fixture = await sociImage(store, await makeTar('mixed', '4'), SPAN);
    ztoc = decodeZtoc(fixture.ztocBytes, 'ztoc');
    assert.ok(encodeZtoc(ztoc).equals(fixture.ztocBytes), 'the zTOC re-encodes to its own bytes');
  });

  after(async () => {
    await rm(store.dir, { recursive: true, force: true });
  });

  /** Verifies the image with `changed` as its zTOC, plain and deep; `bits` is how many bits the lie flips. */
  async function verifyWith(changed: Ztoc, bits = 1): Promise<{ plain: string[]; deep: string[] }> {
    const bytes = encodeZtoc(changed);
    if (bits) assert.equal(bitsChanged(bytes, fixture.ztocBytes), bits);
    const tag = `lie-${n++}`;
    await withZtocBytes(store, fixture, bytes, tag);
    const plain = await verifyImage(store, tag);
    const deep = await verifyImage(store, tag, { deep: true });
    assert.equal(deep.ok, false, 'deep verify fails');
    assert.equal(deep.deep, true);
    assert.equal(deep.layers[0]!.soci!.rebuilt, true);
    return { plain: plain.layers[0]!.soci!.problems, deep: deep.layers[0]!.soci!.problems };
  }

  const entry = (pick: (e: ZtocEntry) => boolean): number => {
    const i = ztoc.entries.findIndex(pick);
    assert.ok(i >= 0);
    return i;
  };
  const withEntry = (i: number, change: Partial<ZtocEntry>): Ztoc => ({ ...ztoc, entries: ztoc.entries.map((e, j) => (j === i ? { ...e, ...change } : e)) });
  const withWindow = (span: number, change: (window: Buffer) => Buffer): Ztoc => {
    const zinfo = decodeGzipZinfo(ztoc.checkpoints, 'ztoc');
    const checkpoints = zinfo.checkpoints.map((c, i) => (i === span ? { ...c, window: change(Buffer.from(c.window)) } : c));
    return { ...ztoc, checkpoints: encodeGzipZinfo({ ...zinfo, checkpoints }) };
  };

  it('passes an honest zTOC, every span checked through the rebuild', async () => {
    const report = await verifyImage(store, 'soci', { deep: true });
    assert.equal(report.ok, true, JSON.stringify(report.layers[0]!.soci));
    const soci = report.layers[0]!.soci!;
    assert.equal(soci.rebuilt, true);
    assert.equal(soci.spansVerified, ztoc.maxSpanId + 1);
    await assert.rejects(verifyImage(store, 'soci', { deep: true, quick: true }), /both quickly and deeply/);
  });

  it('a flipped bit in a file name', async () => {
    const i = entry((e) => e.name === 'usr/share/doc/page004.txt');
    const name = ztoc.entries[i]!.name;
    const lie = `${name.slice(0, -1)}${String.fromCharCode(name.charCodeAt(name.length - 1) ^ 1)}`;
    const { plain, deep } = await verifyWith(withEntry(i, { name: lie }));
    assert.deepEqual(plain, [], 'plain verify takes the lie');
    assert.equal(deep[0], `zTOC entry ${i}: name is "${lie}", the layer says "${name}"`);
  });

  it('a flipped bit in an offset', async () => {
    const i = entry((e) => e.type === 'reg' && e.uncompressedSize > 0 && e.uncompressedOffset > SPAN);
    const e = ztoc.entries[i]!;
    const { plain, deep } = await verifyWith(withEntry(i, { uncompressedOffset: e.uncompressedOffset ^ 512 }));
    assert.deepEqual(plain, []);
    assert.match(deep[0]!, new RegExp(`zTOC entry "${e.name}": offset is ${e.uncompressedOffset ^ 512}, the layer says ${e.uncompressedOffset}$`));
  });

  it('a flipped bit in a mode', async () => {
    const i = entry((e) => e.name === 'usr/bin/env');
    const { plain, deep } = await verifyWith(withEntry(i, { mode: 0o655 }));
    assert.deepEqual(plain, []);
    assert.equal(deep[0], 'zTOC entry "usr/bin/env": mode is 0655, the layer says 0755');
  });

  /** A span past the first 32 KiB of a file of prose (deflate refers back into its window) or of noise (stored blocks never do). */
  const spanIn = (kind: 'prose' | 'noise'): number => {
    const { checkpoints } = decodeGzipZinfo(ztoc.checkpoints, 'ztoc');
    const k = checkpoints.findIndex((c, k) => k > 0 && ztoc.entries.some((e) => /page\d+\.txt$/.test(e.name) && (Number(e.name.slice(-7, -4)) % 4 === 3) === (kind === 'noise')
      && e.uncompressedOffset + WINDOW_SIZE <= c.out && c.out + 4096 < e.uncompressedOffset + e.uncompressedSize));
    assert.ok(k > 0, `a span inside ${kind}`);
    return k;
  };

  it('a flipped bit in a checkpoint window: the span inflates to wrong bytes', async () => {
    const k = spanIn('prose');
    const { plain, deep } = await verifyWith(withWindow(k, (w) => (w[WINDOW_SIZE - 1]! ^= 0x20, w)));
    assert.deepEqual(plain, [], 'the span digests do not cover windows');
    assert.match(deep[0]!, new RegExp(`^span ${k}: checkpoint window differs from the layer's 32 KiB before uncompressed offset \\d+, first at window byte 32767: the span inflates to wrong bytes from uncompressed offset \\d+$`));
  });

  it('a zeroed checkpoint window, over text and over incompressible bytes', async () => {
    const { checkpoints } = decodeGzipZinfo(ztoc.checkpoints, 'ztoc');
    const k = spanIn('prose');
    const text = await verifyWith(withWindow(k, (w) => w.fill(0)), bitsChanged(checkpoints[k]!.window, Buffer.alloc(WINDOW_SIZE)));
    assert.deepEqual(text.plain, []);
    assert.match(text.deep[0]!, new RegExp(`^span ${k}: checkpoint window differs .*, first at window byte \\d+: the span inflates to wrong bytes from uncompressed offset \\d+$`));
    // Stored blocks copy their bytes: nothing reads the window, yet the zTOC still lies.
    const noise = spanIn('noise');
    const stored = await verifyWith(withWindow(noise, (w) => w.fill(0)), bitsChanged(checkpoints[noise]!.window, Buffer.alloc(WINDOW_SIZE)));
    assert.match(stored.deep[0]!, new RegExp(`^span ${noise}: checkpoint window differs .*: the span still inflates to the right bytes, as nothing in it refers back to the changed bytes$`));
  });

  it('a build tool that is not the index\'s, and a span size that is not', async () => {
    const tool = await verifyWith({ ...ztoc, buildToolIdentifier: 'AWS SOCI CLI v0.3' });
    assert.match(tool.deep[0]!, /zTOC build tool is "AWS SOCI CLI v0\.3", the SOCI index says "AWS SOCI CLI v0\.2"$/);
    const zinfo = decodeGzipZinfo(ztoc.checkpoints, 'ztoc');
    const span = await verifyWith({ ...ztoc, checkpoints: encodeGzipZinfo({ ...zinfo, spanSize: SPAN + 1 }) });
    assert.match(span.deep[0]!, /zTOC checkpoints record span size 65537, the SOCI index says 65536$/);
  });

  it('bad input is a problem naming what and where, never a crash or a hang', async () => {
    const annotations = fixture.ztoc.annotations!;
    await withZtocBytes(store, { ...fixture, ztoc: { ...fixture.ztoc, annotations: { ...annotations, [SPAN_SIZE_ANNOTATION]: '4 MiB' } } }, fixture.ztocBytes, 'bad-span-size');
    const span = await verifyImage(store, 'bad-span-size', { deep: true });
    assert.deepEqual(span.layers[0]!.soci!.problems, ['the SOCI index gives the zTOC a span size of "4 MiB", not a positive integer']);
    // Garbage of the layer's size, under the honest zTOC: the rebuild stops at the first bad byte.
    const garbage = pseudoRandomBytes('garbage', fixture.layer.size);
    const layer = { ...fixture.layer, digest: sha256(garbage) };
    await store.putBlob(layer, async () => Readable.from([garbage]));
    const lying = { ...fixture, image: { ...fixture.image, layers: [layer] }, ztoc: { ...fixture.ztoc, annotations: { ...annotations, [LAYER_DIGEST_ANNOTATION]: layer.digest } } };
    await withZtocBytes(store, lying, fixture.ztocBytes, 'garbage');
    const report = await verifyImage(store, 'garbage', { deep: true });
    assert.equal(report.ok, false);
    assert.match(report.layers[0]!.soci!.problems[0]!, /^layer 1\/1 \(sha256:[0-9a-f]{64}\): the gzip data is corrupt at compressed byte 0 \(incorrect header check\)$/);
  });

  it('counts the differences after the first', async () => {
    const i = entry((e) => e.type === 'reg' && e.mode === 0o644);
    const { deep } = await verifyWith(withEntry(i, { mode: 0o744, uid: 1 }), 0);
    assert.match(deep[0]!, /mode is 0744, the layer says 0644 \(and 1 more difference\)$/);
  });
});
