// Gzip checkpoints: every span inflates, from its checkpoint alone, to exactly the bytes it covers;
// concatenated members are followed; the checkpoint blob round-trips and rejects what is corrupt.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decodeGzipZinfo, encodeGzipZinfo, GzipIndexer, inflateFromCheckpoint, WINDOW_SIZE, type IndexedGzip } from '../../../src/core/soci/zinfo.js';

const KIB = 1024;

function index(gz: Buffer, spanSize: number, pieces = 7): { indexed: IndexedGzip; output: Buffer } {
  const out: Buffer[] = [];
  const indexer = new GzipIndexer(spanSize, (b) => out.push(Buffer.from(b)), 'test');
  // Odd piece sizes, so boundaries fall anywhere relative to the pushes.
  const step = Math.max(1, Math.ceil(gz.length / pieces));
  for (let at = 0; at < gz.length; at += step) indexer.push(gz.subarray(at, at + step));
  return { indexed: indexer.finish(), output: Buffer.concat(out) };
}

/** Compressible text without long repeats (words picked by a fixed pseudo-random sequence). */
function text(bytes: number, seed = 1): Buffer {
  const words = ['lazy', 'images', 'span', 'checkpoint', 'window', 'deflate', 'block', 'layer', 'tar', 'gzip', 'member', 'offset'];
  const parts: string[] = [];
  let length = 0;
  for (let x = seed; length < bytes;) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const w = `${words[x % words.length]}${x % 11 === 0 ? '\n' : ' '}`;
    parts.push(w);
    length += w.length;
  }
  return Buffer.from(parts.join('').slice(0, bytes));
}

/** memLevel 2 keeps deflate blocks small (256 symbols), so boundaries are many and mostly unaligned. */
const SMALL_BLOCKS = { level: 6, memLevel: 2 };

function assertSpansInflate(gz: Buffer, indexed: IndexedGzip, output: Buffer): void {
  const { checkpoints } = indexed;
  checkpoints.forEach((c, i) => {
    const start = c.in - (c.bits ? 1 : 0);
    const end = i + 1 < checkpoints.length ? checkpoints[i + 1]!.in : gz.length;
    const outEnd = i + 1 < checkpoints.length ? checkpoints[i + 1]!.out : output.length;
    const span = gz.subarray(start, end);
    assert.equal(indexed.spanDigests[i], `sha256:${createHash('sha256').update(span).digest('hex')}`, `span ${i} digest`);
    assert.ok(c.window.equals(Buffer.concat([Buffer.alloc(Math.max(0, WINDOW_SIZE - c.out)), output.subarray(Math.max(0, c.out - WINDOW_SIZE), c.out)])), `window ${i}`);
    const bytes = inflateFromCheckpoint(c, span, outEnd - c.out, `span ${i}`);
    assert.ok(bytes.equals(output.subarray(c.out, outEnd)), `span ${i} inflates to its bytes`);
  });
}

describe('gzip checkpoints', () => {
  it('puts one after the header, then one at the first block boundary past each span size; every span inflates on its own', () => {
    const data = Buffer.concat([text(600 * KIB), randomBytes(200 * KIB), text(400 * KIB)]);
    const gz = gzipSync(data, SMALL_BLOCKS);
    const { indexed, output } = index(gz, 64 * KIB);
    assert.ok(output.equals(data));
    assert.equal(indexed.compressedSize, gz.length);
    assert.equal(indexed.uncompressedSize, data.length);
    const [first] = indexed.checkpoints;
    assert.deepEqual({ in: first!.in, out: first!.out, bits: first!.bits }, { in: 10, out: 0, bits: 0 });
    for (let i = 1; i < indexed.checkpoints.length; i++) assert.ok(indexed.checkpoints[i]!.out - indexed.checkpoints[i - 1]!.out > 64 * KIB);
    assert.ok(indexed.checkpoints.length >= 10, `${indexed.checkpoints.length} checkpoints`);
    assert.ok(indexed.checkpoints.some((c) => c.bits !== 0), 'some checkpoint has unused bits');
    assert.ok(indexed.checkpoints.some((c, i) => i > 0 && c.bits === 0), 'some later checkpoint is byte-aligned');
    assertSpansInflate(gz, indexed, output);
  });

  it('follows concatenated members (as pigz writes), with spans crossing member boundaries', () => {
    const parts = [text(300 * KIB), text(5), randomBytes(90 * KIB), text(250 * KIB)];
    const gz = Buffer.concat(parts.map((p, i) => gzipSync(p, { level: 1 + i * 2, memLevel: 2 })));
    const { indexed, output } = index(gz, 100 * KIB, 13);
    assert.ok(output.equals(Buffer.concat(parts)));
    assert.equal(indexed.compressedSize, gz.length);
    assertSpansInflate(gz, indexed, output);
  });

  it('handles a member that ends exactly where a push ends', () => {
    const a = gzipSync(text(70 * KIB));
    const b = gzipSync(text(90 * KIB));
    const out: Buffer[] = [];
    const indexer = new GzipIndexer(32 * KIB, (x) => out.push(Buffer.from(x)), 'test');
    indexer.push(a);
    indexer.push(b);
    const indexed = indexer.finish();
    assert.equal(Buffer.concat(out).length, 160 * KIB);
    assertSpansInflate(Buffer.concat([a, b]), indexed, Buffer.concat(out));
  });

  it('gives an empty stream its one checkpoint', () => {
    const gz = gzipSync(Buffer.alloc(0));
    const { indexed } = index(gz, 1024, 1);
    assert.equal(indexed.checkpoints.length, 1);
    assert.equal(indexed.spanDigests.length, 1);
  });

  it('says where gzip data is corrupt or truncated', () => {
    const gz = gzipSync(text(200 * KIB));
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 40, 60);
    assert.throws(() => index(corrupt, 64 * KIB), /test: the gzip data is corrupt at compressed byte \d+/);
    assert.throws(() => index(gz.subarray(0, gz.length - 100), 64 * KIB), /test: the gzip data ends early \(truncated\)/);
    assert.throws(() => index(Buffer.concat([gz, Buffer.from('trailing junk')]), 64 * KIB), /the gzip data is corrupt/);
  });

  it('inflating a span with the wrong compressed bytes fails or differs, never hangs', () => {
    const gz = gzipSync(text(300 * KIB), SMALL_BLOCKS);
    const { indexed } = index(gz, 64 * KIB);
    const c = indexed.checkpoints[1]!;
    const next = indexed.checkpoints[2]!;
    assert.throws(() => inflateFromCheckpoint(c, Buffer.alloc(10, 0xff), next.out - c.out, 'span 1'), /span 1: the span (does not inflate|inflates to \d+ bytes)/);
  });
});

describe('checkpoint blob', () => {
  const gz = gzipSync(text(300 * KIB), SMALL_BLOCKS);
  const { indexed } = index(gz, 64 * KIB);

  it('round-trips: count, span size, then 32,785 bytes per checkpoint, little-endian', () => {
    const blob = encodeGzipZinfo(indexed);
    assert.equal(blob.length, 12 + indexed.checkpoints.length * 32785);
    assert.equal(blob.readInt32LE(0), indexed.checkpoints.length);
    assert.equal(blob.readBigInt64LE(4), BigInt(64 * KIB));
    const back = decodeGzipZinfo(blob, 'test');
    assert.equal(back.spanSize, 64 * KIB);
    assert.deepEqual(back.checkpoints.map((c) => [c.in, c.out, c.bits, c.window.toString('hex')]), indexed.checkpoints.map((c) => [c.in, c.out, c.bits, c.window.toString('hex')]));
  });

  it('reads the legacy layout, which leaves checkpoint 0 out', () => {
    const blob = encodeGzipZinfo(indexed);
    const legacy = Buffer.concat([blob.subarray(0, 12), blob.subarray(12 + 32785)]);
    const back = decodeGzipZinfo(legacy, 'test');
    assert.equal(back.checkpoints.length, indexed.checkpoints.length);
    assert.deepEqual([back.checkpoints[0]!.in, back.checkpoints[0]!.out, back.checkpoints[0]!.bits], [10, 0, 0]);
  });

  it('rejects a truncated blob, a bad count, bits over 7 and offsets going backwards', () => {
    const blob = encodeGzipZinfo(indexed);
    assert.throws(() => decodeGzipZinfo(blob.subarray(0, blob.length - 1), 'z'), /z: the gzip checkpoints are \d+ bytes, but \d+ checkpoints take/);
    assert.throws(() => decodeGzipZinfo(blob.subarray(0, 5), 'z'), /shorter than their 12-byte header/);
    const zero = Buffer.from(blob);
    zero.writeInt32LE(0, 0);
    assert.throws(() => decodeGzipZinfo(zero, 'z'), /declare 0 checkpoints/);
    const bits = Buffer.from(blob);
    bits[12 + 32785 + 16] = 9;
    assert.throws(() => decodeGzipZinfo(bits, 'z'), /checkpoint 1 has 9 unused bits/);
    const back = Buffer.from(blob);
    back.writeBigInt64LE(1n, 12 + 2 * 32785);
    assert.throws(() => decodeGzipZinfo(back, 'z'), /checkpoint 2 at compressed 1, .* does not come after the one before/);
  });
});
