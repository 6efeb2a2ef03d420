// Gzip checkpoints ("zinfo"), as soci builds them from zlib's zran example: a checkpoint
// (compressed offset, uncompressed offset, unused bits, the last 32 KiB of output) at the first
// deflate block boundary after the gzip header and then at the first boundary after more than
// `spanSize` bytes of output since the last one (blockIndexer.ts finds them). A reader can start
// inflating at any checkpoint, which is what makes spans fetchable. Here: their blob, and the
// pako inflates that need zlib internals (priming unused bits, a dictionary).
import ZStream from 'pako/lib/zlib/zstream.js';
import { inflate, inflateEnd, inflateInit2, inflateReset2, inflateSetDictionary } from 'pako/lib/zlib/inflate.js';
import { LazyImageError } from '../errors.js';

export const WINDOW_SIZE = 32768;
const Z_OK = 0;
const Z_STREAM_END = 1;
const Z_NO_FLUSH = 0;
const Z_BLOCK = 5;
const Z_BUF_ERROR = -5;
/** zlib's windowBits for "gzip or zlib header, detected", and for raw deflate. */
const AUTO_HEADER = 47;
const RAW = -15;
const HEADER_SIZE = 12;
const RECORD_SIZE = 8 + 8 + 1 + WINDOW_SIZE;

export interface Checkpoint {
  /** Compressed offset of the first whole byte after the boundary (the gzip header included). */
  in: number;
  /** Uncompressed offset of the boundary. */
  out: number;
  /** Bits of the byte at `in - 1` that still belong to the next block (0-7). */
  bits: number;
  /** The 32 KiB of output before `out` (zeros in front when there was less). */
  window: Buffer;
}

export interface GzipZinfo {
  spanSize: number;
  checkpoints: Checkpoint[];
}

/** The little-endian blob soci stores in a zTOC: count, span size, then each checkpoint. */
export function encodeGzipZinfo(z: GzipZinfo): Buffer {
  const out = Buffer.alloc(HEADER_SIZE + z.checkpoints.length * RECORD_SIZE);
  out.writeInt32LE(z.checkpoints.length, 0);
  out.writeBigInt64LE(BigInt(z.spanSize), 4);
  z.checkpoints.forEach((c, i) => {
    const at = HEADER_SIZE + i * RECORD_SIZE;
    out.writeBigInt64LE(BigInt(c.in), at);
    out.writeBigInt64LE(BigInt(c.out), at + 8);
    out.writeUInt8(c.bits, at + 16);
    c.window.copy(out, at + 17);
  });
  return out;
}

/**
 * Reads the blob back, in its current layout or the legacy one (which leaves out checkpoint 0 and
 * implies it right after a 10-byte header); the two are told apart by length.
 */
export function decodeGzipZinfo(blob: Buffer, where: string): GzipZinfo {
  const fail = (why: string): LazyImageError => new LazyImageError('INVALID_FORMAT', `${where}: the gzip checkpoints ${why}`, { ref: where });
  if (blob.length < HEADER_SIZE) throw fail(`are ${blob.length} bytes, shorter than their ${HEADER_SIZE}-byte header`);
  const count = blob.readInt32LE(0);
  const spanSize = Number(blob.readBigInt64LE(4));
  if (count < 1) throw fail(`declare ${count} checkpoints`);
  const legacy = blob.length === HEADER_SIZE + (count - 1) * RECORD_SIZE;
  if (!legacy && blob.length !== HEADER_SIZE + count * RECORD_SIZE) {
    throw fail(`are ${blob.length} bytes, but ${count} checkpoints take ${HEADER_SIZE + count * RECORD_SIZE} (or ${HEADER_SIZE + (count - 1) * RECORD_SIZE} in the legacy layout): truncated or corrupt`);
  }
  const checkpoints: Checkpoint[] = legacy ? [{ in: 10, out: 0, bits: 0, window: Buffer.alloc(WINDOW_SIZE) }] : [];
  for (let at = HEADER_SIZE; at < blob.length; at += RECORD_SIZE) {
    const c = { in: Number(blob.readBigInt64LE(at)), out: Number(blob.readBigInt64LE(at + 8)), bits: blob[at + 16]!, window: blob.subarray(at + 17, at + RECORD_SIZE) };
    const i = checkpoints.length;
    if (c.bits > 7) throw fail(`say checkpoint ${i} has ${c.bits} unused bits (at most 7)`);
    const previous = checkpoints[i - 1];
    if (c.in < 1 || c.out < 0 || (previous && (c.in <= previous.in || c.out < previous.out))) {
      throw fail(`have checkpoint ${i} at compressed ${c.in}, uncompressed ${c.out}, which does not come after the one before`);
    }
    checkpoints.push(c);
  }
  return { spanSize, checkpoints };
}

export interface IndexedGzip extends GzipZinfo {
  /** sha256 of each span's compressed bytes, `[in_i - (bits_i ? 1 : 0), in_(i+1))`, the last to the end. */
  spanDigests: string[];
  compressedSize: number;
  uncompressedSize: number;
}

/** A deflate block boundary that pako stopped at: offsets relative to where it started. */
export interface Boundary {
  in: number;
  out: number;
  bits: number;
  /** The block before it was the stream's last: no checkpoint goes there. */
  final: boolean;
}

const PROBE_STEP = 4096;

/**
 * Trial inflates from block boundaries: node:zlib finds boundaries but not their unused bits, and
 * this is how they are learned. A probe keeps its pako stream (with its window) and its output
 * room from trial to trial: an indexer runs one per guess of the bits, eight at every candidate,
 * most failing within a few bytes.
 */
export class BoundaryProbe {
  private readonly strm = new ZStream();
  private readonly room: Buffer;

  /** Trials that check up to `room` bytes of output write into the probe's; longer ones have their own. */
  constructor(room: number) {
    inflateInit2(this.strm, RAW);
    this.room = Buffer.allocUnsafe(room);
  }

  /**
   * Inflates from a block boundary whose last byte `lastByte` has `bits` unused bits (primed with
   * them and with `window`) over `input`, checking the output against `expected`; returns the
   * boundaries passed, or undefined when the output differs, or when the input ends short of a
   * boundary or the stream's end. With `limit`, stops once that much output has matched: it reads
   * `expected` only up to one byte past `limit`, and needs only to know whether it goes on further.
   */
  boundariesFrom(lastByte: number, bits: number, window: Buffer, input: Buffer, expected: Buffer, limit = Infinity): Boundary[] | undefined {
    const strm = this.strm;
    inflateReset2(strm, RAW);
    prime(strm, lastByte, bits);
    inflateSetDictionary(strm, window);
    // Room for one byte too many, to see an overshoot; only what inflate wrote is read.
    const room = Math.min(limit, expected.length) + 1;
    const out = room <= this.room.length ? this.room : Buffer.allocUnsafe(room);
    strm.input = input;
    strm.next_in = 0;
    strm.avail_in = input.length;
    strm.output = out;
    strm.next_out = 0;
    const passed: Boundary[] = [];
    for (;;) {
      const from = strm.next_out;
      // A little output at a time, so a wrong guess is caught by its first bytes.
      strm.avail_out = Math.min(PROBE_STEP, room - from);
      const ret = inflate(strm, Z_BLOCK);
      if ((ret !== Z_OK && ret !== Z_STREAM_END) || strm.next_out > expected.length) return undefined;
      if (!out.subarray(from, strm.next_out).equals(expected.subarray(from, strm.next_out))) return undefined;
      const boundary = ret === Z_STREAM_END || (strm.data_type & 128) !== 0;
      if (boundary && ret !== Z_STREAM_END) passed.push({ in: strm.next_in, out: strm.next_out, bits: strm.data_type & 7, final: (strm.data_type & 64) !== 0 });
      // Spent input with full output may still owe a match's copy: go round again for it.
      if (strm.avail_in === 0 && (boundary || strm.avail_out > 0)) return strm.next_out === expected.length && boundary ? passed : undefined;
      if (ret === Z_STREAM_END) return undefined;
      if (strm.next_out >= limit) return passed;
    }
  }
}

/** zlib's inflatePrime, which pako lacks: the top `bits` bits of the shared byte come first. */
function prime(strm: ZStream, byte: number, bits: number): void {
  if (!bits) return;
  strm.state!.hold += byte >> (8 - bits) << strm.state!.bits;
  strm.state!.bits += bits;
}

/**
 * Inflates `length` bytes starting at a checkpoint, from the compressed bytes that follow it
 * (`compressed` starts at `in - 1` when the checkpoint has unused bits, else at `in`).
 */
export function inflateFromCheckpoint(c: Checkpoint, compressed: Buffer, length: number, where: string): Buffer {
  const strm = new ZStream();
  inflateInit2(strm, RAW);
  prime(strm, compressed[0]!, c.bits);
  const input = c.bits ? compressed.subarray(1) : compressed;
  inflateSetDictionary(strm, c.window);
  const out = Buffer.alloc(length);
  strm.input = input;
  strm.next_in = 0;
  strm.avail_in = input.length;
  strm.output = out;
  strm.next_out = 0;
  strm.avail_out = length;
  let raw = true;
  while (strm.avail_out > 0) {
    const ret = inflate(strm, Z_NO_FLUSH);
    if (ret === Z_STREAM_END) {
      if (strm.avail_in === 0) break;
      // Another gzip member follows: past the first one's trailer (raw mode only), its header is read.
      if (raw) {
        strm.next_in += 8;
        strm.avail_in -= 8;
        raw = false;
      }
      inflateReset2(strm, AUTO_HEADER);
      continue;
    }
    if (ret !== Z_OK) {
      if (ret === Z_BUF_ERROR && strm.avail_in === 0) break;
      throw new LazyImageError('INVALID_FORMAT', `${where}: the span does not inflate (${strm.msg || `zlib error ${ret}`})`, { ref: where });
    }
  }
  inflateEnd(strm);
  if (strm.next_out !== length) throw new LazyImageError('INVALID_FORMAT', `${where}: the span inflates to ${strm.next_out} bytes, not ${length}`, { ref: where });
  return out;
}
