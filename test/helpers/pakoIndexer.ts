// The first gzip checkpoint indexer, all in pako: one inflate that stops at every deflate block
// boundary, as soci's zran-based C code does. The project indexes with native zlib
// (src/core/soci/blockIndexer.ts); this one stays as an independent reference that the tests
// hold the native indexer to, checkpoint for checkpoint.
import { createHash, type Hash } from 'node:crypto';
import ZStream from 'pako/lib/zlib/zstream.js';
import { inflate, inflateEnd, inflateInit2, inflateReset2 } from 'pako/lib/zlib/inflate.js';
import { LazyImageError } from '../../src/core/errors.js';
import { WINDOW_SIZE, type Checkpoint, type IndexedGzip } from '../../src/core/soci/zinfo.js';

const Z_OK = 0;
const Z_STREAM_END = 1;
const Z_BLOCK = 5;
const Z_BUF_ERROR = -5;
/** zlib's windowBits for "gzip or zlib header, detected". */
const AUTO_HEADER = 47;
const OUTPUT_CHUNK = 256 * 1024;

/**
 * Inflates a gzip stream pushed to it, handing the output on as it comes, and builds the
 * checkpoints and span digests in the same pass. Concatenated members (pigz) are followed.
 */
export class PakoGzipIndexer {
  private readonly strm = new ZStream();
  private readonly checkpoints: Checkpoint[] = [];
  private readonly spanDigests: string[] = [];
  private span: Hash | undefined;
  private totalIn = 0;
  private totalOut = 0;
  private last = 0;
  private lastByte = 0;
  private ended = false;
  /** Output goes after a copy of the last 32 KiB, so a checkpoint's window is one slice. */
  private out = Buffer.alloc(WINDOW_SIZE + OUTPUT_CHUNK);
  private at = WINDOW_SIZE;

  constructor(private readonly spanSize: number, private readonly onOutput: (chunk: Buffer) => void, private readonly where: string) {
    if (inflateInit2(this.strm, AUTO_HEADER) !== Z_OK) throw new LazyImageError('INTERNAL', `${where}: cannot start inflating`);
  }

  push(chunk: Buffer): void {
    const strm = this.strm;
    // More bytes after a member's end: another member (anything else fails as corrupt gzip).
    if (this.ended && chunk.length) this.startNextMember();
    strm.input = chunk;
    strm.next_in = 0;
    strm.avail_in = chunk.length;
    while (strm.avail_in > 0) {
      if (this.at === this.out.length) {
        const next = Buffer.alloc(WINDOW_SIZE + OUTPUT_CHUNK);
        this.out.copy(next, 0, this.at - WINDOW_SIZE, this.at);
        this.out = next;
        this.at = WINDOW_SIZE;
      }
      strm.output = this.out;
      strm.next_out = this.at;
      strm.avail_out = this.out.length - this.at;
      const inBefore = strm.next_in;
      const ret = inflate(strm, Z_BLOCK);
      const consumed = chunk.subarray(inBefore, strm.next_in);
      if (consumed.length) {
        this.span?.update(consumed);
        this.lastByte = consumed[consumed.length - 1]!;
        this.totalIn += consumed.length;
      }
      if (strm.next_out > this.at) {
        this.onOutput(this.out.subarray(this.at, strm.next_out));
        this.totalOut += strm.next_out - this.at;
        this.at = strm.next_out;
      }
      if (ret === Z_STREAM_END) {
        if (strm.avail_in === 0) {
          this.ended = true;
          return;
        }
        this.startNextMember();
        continue;
      }
      if (ret !== Z_OK && ret !== Z_BUF_ERROR) throw this.corrupt();
      const boundary = (strm.data_type & 128) !== 0 && (strm.data_type & 64) === 0;
      if (boundary && (this.totalOut === 0 || this.totalOut - this.last > this.spanSize)) this.checkpoint(strm.data_type & 7);
    }
  }

  /** Call at the end of the input; the stream must have ended cleanly. */
  finish(): IndexedGzip {
    if (!this.ended) throw new LazyImageError('INVALID_FORMAT', `${this.where}: the gzip data ends early (truncated)`, { ref: this.where });
    inflateEnd(this.strm);
    if (this.span) this.spanDigests.push(`sha256:${this.span.digest('hex')}`);
    return { spanSize: this.spanSize, checkpoints: this.checkpoints, spanDigests: this.spanDigests, compressedSize: this.totalIn, uncompressedSize: this.totalOut };
  }

  private startNextMember(): void {
    this.ended = false;
    inflateReset2(this.strm, AUTO_HEADER);
  }

  private checkpoint(bits: number): void {
    if (this.span) this.spanDigests.push(`sha256:${this.span.digest('hex')}`);
    this.span = createHash('sha256');
    if (bits) this.span.update(Buffer.of(this.lastByte));
    this.checkpoints.push({ in: this.totalIn, out: this.totalOut, bits, window: Buffer.from(this.out.subarray(this.at - WINDOW_SIZE, this.at)) });
    this.last = this.totalOut;
  }

  private corrupt(): LazyImageError {
    const why = this.strm.msg || 'corrupt data';
    return new LazyImageError('INVALID_FORMAT', `${this.where}: the gzip data is corrupt at compressed byte ${this.totalIn} (${why})`, { ref: this.where });
  }
}

