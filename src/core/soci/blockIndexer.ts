// The gzip checkpoints of a layer (zinfo.ts), found with node:zlib: about three times faster than
// inflating with pako, with the same checkpoints and span digests. Far from a span's end native
// inflate runs freely; near it, it stops at every block boundary. It does not say how many bits of
// the last byte it left unused, though, and when the input runs out or the output fills it cannot
// say whether it stopped at a boundary. So stops that could be checkpoints stay candidates until
// the next sure boundary; then pako inflates a little from each (its unused bits guessed, each
// guess checked against native's output), which tells the boundaries and their bits. Only 64 KiB
// or so per span is inflated twice.
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { LazyImageError } from '../errors.js';
import { BlockInflater } from './blockInflater.js';
import { BoundaryProbe, WINDOW_SIZE, type Boundary, type Checkpoint, type IndexedGzip } from './zinfo.js';

const OUTPUT_CHUNK = 1024 * 1024;
const TRAILER_SIZE = 8;
const ANY_BITS = [0, 1, 2, 3, 4, 5, 6, 7];
/** Output checked past the last candidate: a wrong bit count or a stop that is no boundary never matches this far. */
const CHECKED = 64 * 1024;
/** How far before a span's end inflating goes back to stopping at every boundary. */
const BLIND_MARGIN = 256 * 1024;
/** A gzip header with its optional name, comment and extra field; anything longer is refused. */
const MAX_HEADER = 1024 * 1024;

/** A place in the stream where the inflater stopped. */
interface Stop {
  in: number;
  out: number;
  /** The byte at `in - 1`, whose top bits belong to the next block when bits are unused. */
  lastByte: number;
  /**
   * The 32 KiB of output before `out`: a view of the output buffer then filling, which is kept
   * from reuse until it ends before the anchor (no stop in use is before the anchor).
   */
  window: Buffer;
}

/** Bytes with their stream positions, kept from `start` until dropped. */
class ByteLog {
  private chunks: Buffer[] = [];
  private start = 0;

  append(bytes: Buffer): void {
    if (bytes.length) this.chunks.push(bytes);
  }

  /** The bytes in [from, to), which must lie inside the log. */
  slice(from: number, to: number): Buffer {
    const parts: Buffer[] = [];
    let at = this.start;
    for (const chunk of this.chunks) {
      const end = at + chunk.length;
      if (end > from && at < to) parts.push(chunk.subarray(Math.max(0, from - at), Math.min(chunk.length, to - at)));
      at = end;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  /** Hands the bytes before `to` to `use` (in order) and forgets them. */
  drop(to: number, use?: (bytes: Buffer) => void): void {
    while (this.start < to && this.chunks.length) {
      const first = this.chunks[0]!;
      const n = Math.min(first.length, to - this.start);
      use?.(first.subarray(0, n));
      if (n === first.length) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.start += n;
    }
  }
}

export class BlockGzipIndexer {
  private phase: 'header' | 'deflate' | 'trailer' = 'header';
  /** Header or trailer bytes gathered so far. */
  private held = Buffer.alloc(0);
  private members = 0;
  private crc = 0;
  private memberOut = 0;
  private totalIn = 0;
  private totalOut = 0;
  private lastByte = 0;
  private last = 0;
  private readonly checkpoints: Checkpoint[] = [];
  private readonly spanDigests: string[] = [];
  private span: Hash | undefined;
  /** The last sure boundary; its unused bits are known when it follows a gzip header or is a checkpoint. */
  private anchor: Stop & { bits?: number | undefined } | undefined;
  /** Stops after the anchor that may be checkpoints. */
  private candidates: Stop[] = [];
  /** Input and output from the anchor on; the input before it is hashed into its span. */
  private readonly input = new ByteLog();
  private readonly output = new ByteLog();
  /** Output goes after a copy of the last 32 KiB, so a window is one slice. */
  private out: Buffer = Buffer.alloc(WINDOW_SIZE + OUTPUT_CHUNK);
  private at = WINDOW_SIZE;
  /**
   * Filled output buffers the output log may still hold, with the stream position each ends at,
   * and those it no longer holds. Reusing them keeps memory flat: fresh ones per megabyte would
   * pile up as garbage between collections (tens of megabytes while a bomb inflates).
   */
  private readonly filled: Array<{ buffer: Buffer; end: number }> = [];
  private readonly spare: Buffer[] = [];
  /** Room for CHECKED bytes and the one past them that tells an overshoot. */
  private readonly probe = new BoundaryProbe(CHECKED + 1);

  private constructor(private readonly inflater: BlockInflater, private readonly spanSize: number, private readonly onOutput: (chunk: Buffer) => void, private readonly where: string) {}

  static open(spanSize: number, onOutput: (chunk: Buffer) => void, where: string): BlockGzipIndexer {
    return new BlockGzipIndexer(BlockInflater.open(), spanSize, onOutput, where);
  }

  push(chunk: Buffer): void {
    let rest = chunk;
    while (rest.length) {
      if (this.phase === 'deflate') rest = this.inflate(rest);
      else rest = this.phase === 'header' ? this.header(rest) : this.trailer(rest);
    }
  }

  finish(): IndexedGzip {
    this.inflater.close();
    if (this.phase !== 'header' || this.held.length || this.members === 0) {
      throw new LazyImageError('INVALID_FORMAT', `${this.where}: the gzip data ends early (truncated)`, { ref: this.where });
    }
    this.input.drop(this.totalIn, (b) => this.span?.update(b));
    if (this.span) this.spanDigests.push(`sha256:${this.span.digest('hex')}`);
    return { spanSize: this.spanSize, checkpoints: this.checkpoints, spanDigests: this.spanDigests, compressedSize: this.totalIn, uncompressedSize: this.totalOut };
  }

  private inflate(chunk: Buffer): Buffer {
    if (this.at === this.out.length) {
      const next = this.spare.pop() ?? Buffer.allocUnsafe(WINDOW_SIZE + OUTPUT_CHUNK);
      this.out.copy(next, 0, this.at - WINDOW_SIZE, this.at);
      this.filled.push({ buffer: this.out, end: this.totalOut });
      this.out = next;
      this.at = WINDOW_SIZE;
    }
    // Far from the next span's end no boundary can be a checkpoint: inflate without stopping at
    // them, and no further than where one could be.
    // It stops short, so that the boundaries just before the span's end are seen: the last one
    // is where pako starts when a candidate cannot be judged on its own.
    const ahead = this.spanSize - (this.totalOut - this.last) - BLIND_MARGIN;
    const blind = this.totalOut > 0 && this.candidates.length === 0 && ahead > 0;
    const end = blind ? Math.min(this.out.length, this.at + ahead) : this.out.length;
    let step;
    try {
      step = this.inflater.step(chunk, this.out, this.at, end, blind);
    } catch (e) {
      throw this.corrupt((e as Error).message);
    }
    this.take(chunk.subarray(0, step.consumed));
    if (step.produced) {
      const made = this.out.subarray(this.at, this.at + step.produced);
      this.at += step.produced;
      this.totalOut += made.length;
      this.memberOut += made.length;
      this.crc = crc32(made, this.crc);
      this.output.append(made);
      this.onOutput(made);
    }
    if (step.stopped === 'end') {
      if (this.candidates.length) this.resolve();
      this.anchor = undefined;
      this.phase = 'trailer';
    } else if (step.stopped !== 'boundary') {
      if (this.due()) this.candidates.push(this.here());
    } else {
      if (this.candidates.length) this.resolve();
      if (this.due()) this.candidates.push(this.here());
      else this.moveAnchor(this.here());
    }
    return chunk.subarray(step.consumed);
  }

  /** zran's rule: a checkpoint at every boundary before any output, then one per span. */
  private due(out = this.totalOut): boolean {
    return out === 0 || out - this.last > this.spanSize;
  }

  private here(): Stop {
    return { in: this.totalIn, out: this.totalOut, lastByte: this.lastByte, window: this.out.subarray(this.at - WINDOW_SIZE, this.at) };
  }

  private moveAnchor(stop: Stop & { bits?: number | undefined }): void {
    this.anchor = stop;
    this.input.drop(stop.in, (b) => this.span?.update(b));
    this.output.drop(stop.out);
    while (this.filled.length && this.filled[0]!.end < stop.out) this.spare.push(this.filled.shift()!.buffer);
  }

  /**
   * Decides the candidates, in order, now that the inflater is at a sure boundary or the end of
   * the deflate stream: pako inflates from each one still due under each unused-bit count, and
   * checks CHECKED bytes of output against native's. No count fits a stop that is no boundary;
   * exactly one fits a boundary, which becomes a checkpoint with it. Several fit when a stored
   * block follows (its header reads the same under several counts): then pako starts from the
   * anchor, whose block ends exactly where the bits of the next one start.
   */
  private resolve(): void {
    const candidates = this.candidates;
    this.candidates = [];
    for (const c of candidates) {
      if (!this.due(c.out)) continue;
      const upTo = c.out + CHECKED;
      const fits = this.trials(c, upTo, true);
      if (fits.length === 1) this.checkpoint(c, fits[0]!.bits);
      if (fits.length < 2) continue;
      const a = this.anchor;
      const passed = a && this.trials(a, upTo, false)[0]?.passed;
      if (!passed) throw this.corrupt('pako and node:zlib disagree on the deflate blocks');
      const b = passed.find((p) => p.in === c.in - a.in && p.out === c.out - a.out);
      if (b && !b.final) this.checkpoint(c, b.bits);
    }
  }

  /**
   * The unused-bit counts of `s` under which pako reproduces native's output (up to `upTo`), with
   * the boundaries it passed: all of them, or only the first.
   */
  private trials(s: Stop & { bits?: number | undefined }, upTo: number, all: boolean): Array<{ bits: number; passed: Boundary[] }> {
    const input = this.input.slice(s.in, this.totalIn);
    // Only as far as boundariesFrom reads (one byte past its limit) and one more, which tells it
    // the output goes on: from a candidate, a view of one output buffer rather than a copy of
    // megabytes (blocks of a bomb's zeros run to several).
    const expected = this.output.slice(s.out, Math.min(this.totalOut, upTo + 2));
    const fits: Array<{ bits: number; passed: Boundary[] }> = [];
    for (const bits of s.bits === undefined ? ANY_BITS : [s.bits]) {
      const passed = this.probe.boundariesFrom(s.lastByte, bits, s.window, input, expected, upTo - s.out);
      if (passed) fits.push({ bits, passed });
      if (fits.length && !all) break;
    }
    return fits;
  }

  /** A checkpoint at a boundary, which, its bits known, is the best anchor too. */
  private checkpoint(c: Stop, bits: number): void {
    this.input.drop(c.in, (b) => this.span?.update(b));
    if (this.span) this.spanDigests.push(`sha256:${this.span.digest('hex')}`);
    this.span = createHash('sha256');
    if (bits) this.span.update(Buffer.of(c.lastByte));
    this.checkpoints.push({ in: c.in, out: c.out, bits, window: Buffer.from(c.window) });
    this.last = c.out;
    this.moveAnchor({ ...c, bits });
  }

  /** Input bytes consumed: logged from the anchor on, hashed into their span when no longer needed. */
  private take(bytes: Buffer): void {
    if (!bytes.length) return;
    this.totalIn += bytes.length;
    this.lastByte = bytes[bytes.length - 1]!;
    this.input.append(bytes);
    if (!this.anchor) this.input.drop(this.totalIn, (b) => this.span?.update(b));
  }

  private header(chunk: Buffer): Buffer {
    const held = Buffer.concat([this.held, chunk]);
    const length = gzipHeaderLength(held, (why) => this.corrupt(why));
    if (length === undefined) {
      if (held.length > MAX_HEADER) throw this.corrupt(`a gzip header longer than ${MAX_HEADER} bytes`);
      this.take(chunk);
      this.held = held;
      return chunk.subarray(chunk.length);
    }
    const used = length - this.held.length;
    this.take(chunk.subarray(0, used));
    this.held = Buffer.alloc(0);
    if (this.members++ > 0) this.inflater.reset();
    this.crc = 0;
    this.memberOut = 0;
    this.phase = 'deflate';
    // Just after a header is a sure boundary with no unused bits: no need to ask pako.
    const start = this.here();
    if (this.due()) this.checkpoint(start, 0);
    else this.moveAnchor({ ...start, bits: 0 });
    return chunk.subarray(used);
  }

  private trailer(chunk: Buffer): Buffer {
    const used = Math.min(TRAILER_SIZE - this.held.length, chunk.length);
    this.held = Buffer.concat([this.held, chunk.subarray(0, used)]);
    this.take(chunk.subarray(0, used));
    if (this.held.length === TRAILER_SIZE) {
      if (this.held.readUInt32LE(0) !== this.crc >>> 0) throw this.corrupt('incorrect data check');
      if (this.held.readUInt32LE(4) !== this.memberOut % 2 ** 32) throw this.corrupt('incorrect length check');
      this.held = Buffer.alloc(0);
      this.phase = 'header';
    }
    return chunk.subarray(used);
  }

  private corrupt(why: string): LazyImageError {
    return new LazyImageError('INVALID_FORMAT', `${this.where}: the gzip data is corrupt at compressed byte ${this.totalIn} (${why})`, { ref: this.where });
  }
}

/** FTEXT is informational; FHCRC, FEXTRA, FNAME and FCOMMENT add fields; the rest are reserved. */
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/** The length of the gzip member header at the start of `b`, or undefined while it is incomplete. */
function gzipHeaderLength(b: Buffer, fail: (why: string) => Error): number | undefined {
  if (b.length >= 1 && b[0] !== 0x1f) throw fail('incorrect header check');
  if (b.length >= 2 && b[1] !== 0x8b) throw fail('incorrect header check');
  if (b.length >= 3 && b[2] !== 8) throw fail('unknown compression method');
  if (b.length < 10) return undefined;
  const flags = b[3]!;
  if (flags & 0xe0) throw fail('unknown header flags set');
  let at = 10;
  if (flags & FEXTRA) {
    if (b.length < at + 2) return undefined;
    at += 2 + b.readUInt16LE(at);
  }
  for (const field of [FNAME, FCOMMENT]) {
    if (!(flags & field)) continue;
    const nul = b.indexOf(0, at);
    if (nul < 0) return undefined;
    at = nul + 1;
  }
  if (flags & FHCRC) {
    if (b.length < at + 2) return undefined;
    if (b.readUInt16LE(at) !== (crc32(b.subarray(0, at)) & 0xffff)) throw fail('header crc mismatch');
    at += 2;
  }
  return b.length < at ? undefined : at;
}
