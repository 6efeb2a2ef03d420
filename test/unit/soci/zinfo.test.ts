// Gzip checkpoints: every span inflates, from its checkpoint alone, to exactly the bytes it covers;
// concatenated members are followed; the checkpoint blob round-trips and rejects what is corrupt.
// Both indexers (pako's, and node:zlib's checked by pako) pass the same tests and agree exactly.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { constants, createGzip, crc32, gzipSync } from 'node:zlib';
import { BlockGzipIndexer } from '../../../src/core/soci/blockIndexer.js';
import { decodeGzipZinfo, encodeGzipZinfo, inflateFromCheckpoint, WINDOW_SIZE, type IndexedGzip } from '../../../src/core/soci/zinfo.js';
import { PakoGzipIndexer } from '../../helpers/pakoIndexer.js';
import { pseudoRandomBytes } from '../../../scripts/sampleImage.js';

const KIB = 1024;

interface Indexer {
  push(chunk: Buffer): void;
  finish(): IndexedGzip;
}
type MakeIndexer = (spanSize: number, onOutput: (chunk: Buffer) => void, where: string) => Indexer;

const INDEXERS: [string, MakeIndexer][] = [
  ['pako', (spanSize, onOutput, where) => new PakoGzipIndexer(spanSize, onOutput, where)],
  ['node:zlib', (spanSize, onOutput, where) => BlockGzipIndexer.open(spanSize, onOutput, where)],
];

/** Pushes `gz` in pieces of the given sizes (cycled), so boundaries fall anywhere relative to pushes. */
function indexWith(make: MakeIndexer, gz: Buffer, spanSize: number, pieces: number[]): { indexed: IndexedGzip; output: Buffer } {
  const out: Buffer[] = [];
  const indexer = make(spanSize, (b) => out.push(Buffer.from(b)), 'test');
  for (let at = 0, i = 0; at < gz.length; i++) {
    const step = pieces[i % pieces.length]!;
    indexer.push(gz.subarray(at, at + step));
    at += step;
  }
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

for (const [name, make] of INDEXERS) {
const index = (gz: Buffer, spanSize: number, pieces = 7): { indexed: IndexedGzip; output: Buffer } => indexWith(make, gz, spanSize, [Math.max(1, Math.ceil(gz.length / pieces))]);

describe(`gzip checkpoints (${name})`, () => {
  it('puts one after the header, then one at the first block boundary past each span size; every span inflates on its own', () => {
    const data = Buffer.concat([text(600 * KIB), pseudoRandomBytes('checkpoints', 200 * KIB), text(400 * KIB)]);
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
    const parts = [text(300 * KIB), text(5), pseudoRandomBytes('members', 90 * KIB), text(250 * KIB)];
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
    const indexer = make(32 * KIB, (x) => out.push(Buffer.from(x)), 'test');
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

  it('checks each member\'s CRC and length, and its header\'s flags and CRC', () => {
    const gz = gzipSync(text(50 * KIB));
    const badCrc = Buffer.from(gz);
    badCrc[gz.length - 8]! ^= 1;
    assert.throws(() => index(badCrc, 64 * KIB), /test: the gzip data is corrupt at compressed byte \d+ \(incorrect data check\)/);
    const badLength = Buffer.from(gz);
    badLength[gz.length - 4]! ^= 1;
    assert.throws(() => index(badLength, 64 * KIB), /test: the gzip data is corrupt at compressed byte \d+ \(incorrect length check\)/);
    const reserved = Buffer.from(gz);
    reserved[3] = 0x20;
    assert.throws(() => index(reserved, 64 * KIB), /unknown header flags set/);
    const named = withHeaderFields(gz, { name: 'layer.tar', extra: Buffer.from('SOCI'), comment: 'c', headerCrc: true });
    named[named.indexOf('layer.tar') + 1]! ^= 1;
    assert.throws(() => index(named, 64 * KIB), /header crc mismatch/);
  });
});
}

/** The same member with a name, an extra field, a comment and a header CRC, as gzip -N and others write. */
function withHeaderFields(gz: Buffer, f: { name: string; extra: Buffer; comment: string; headerCrc: boolean }): Buffer {
  const xlen = Buffer.alloc(2);
  xlen.writeUInt16LE(f.extra.length);
  const head = Buffer.concat([gz.subarray(0, 3), Buffer.of(4 | 8 | 16 | (f.headerCrc ? 2 : 0)), gz.subarray(4, 10), xlen, f.extra, Buffer.from(`${f.name}\0${f.comment}\0`)]);
  const crc = Buffer.alloc(2);
  crc.writeUInt16LE(crc32(head) & 0xffff);
  return Buffer.concat([head, f.headerCrc ? crc : Buffer.alloc(0), gz.subarray(10)]);
}

/** Gzip written with a flush after every `every` bytes: sync flushes end blocks on byte boundaries with empty stored blocks. */
async function flushedGzip(data: Buffer, every: number, flush: number): Promise<Buffer> {
  const gz = createGzip({ level: 6 });
  const out: Buffer[] = [];
  gz.on('data', (b: Buffer) => out.push(b));
  const ended = new Promise((done) => gz.on('end', done));
  for (let at = 0; at < data.length; at += every) {
    gz.write(data.subarray(at, at + every));
    await new Promise<void>((done) => gz.flush(flush, () => done()));
  }
  gz.end();
  await ended;
  return Buffer.concat(out);
}

describe('gzip checkpoints: node:zlib and pako agree', () => {
  const same = (gz: Buffer, spanSize: number, pieces: number[]): void => {
    const [a, b] = INDEXERS.map(([, make]) => indexWith(make, gz, spanSize, pieces));
    assert.ok(a!.output.equals(b!.output), 'the same output');
    const describe = (x: IndexedGzip): unknown => ({ ...x, checkpoints: x.checkpoints.map((c) => ({ ...c, window: createHash('sha256').update(c.window).digest('hex') })) });
    assert.deepEqual(describe(b!.indexed), describe(a!.indexed));
    assertSpansInflate(gz, b!.indexed, b!.output);
  };
  const data = Buffer.concat([text(700 * KIB), pseudoRandomBytes('zeros', 300 * KIB), Buffer.alloc(3 * 1024 * KIB), text(500 * KIB, 7)]);

  it('on every kind of block: small, stored, huge runs of zeros (past the output buffer), across members', () => {
    const gz = Buffer.concat([gzipSync(data, SMALL_BLOCKS), gzipSync(data.subarray(0, 200 * KIB), { level: 0 }), gzipSync(Buffer.alloc(0)), gzipSync(data, { level: 9 })]);
    for (const spanSize of [4 * 1024 * KIB, 64 * KIB, 3 * KIB, 100]) same(gz, spanSize, [65536, 333, 8192, 1, 100_003]);
  });

  it('on sync and full flushes (empty stored blocks, byte-aligned boundaries) and header fields', async () => {
    for (const flush of [constants.Z_SYNC_FLUSH, constants.Z_FULL_FLUSH]) {
      const gz = await flushedGzip(data.subarray(0, 1500 * KIB), 7777, flush);
      for (const spanSize of [64 * KIB, 5000]) same(gz, spanSize, [4096, 777]);
    }
    same(withHeaderFields(gzipSync(data.subarray(0, 300 * KIB)), { name: 'layer.tar', extra: Buffer.alloc(300, 1), comment: 'from a test', headerCrc: true }), 10 * KIB, [1, 2, 3, 5000]);
  });
});

describe('checkpoint blob', () => {
  const gz = gzipSync(text(300 * KIB), SMALL_BLOCKS);
  const { indexed } = indexWith(INDEXERS[0]![1], gz, 64 * KIB, [gz.length]);

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
