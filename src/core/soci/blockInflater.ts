// node:zlib's raw inflater driven one call at a time with Z_BLOCK, so it stops at deflate block
// boundaries at native speed. The public stream API ends the stream at the first such stop, so
// this uses the handle behind it (`_handle.writeSync` and `_writeState`, stable since Node 0.12).
import { constants, createInflateRaw, type InflateRaw } from 'node:zlib';
import { LazyImageError } from '../errors.js';

interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

interface InflateInternals {
  _handle?: ZlibHandle;
  _writeState?: Uint32Array;
}

export interface BlockStep {
  /** Input bytes taken, whole bytes (zlib keeps at most 7 unused bits of the last one). */
  consumed: number;
  produced: number;
  /**
   * Why it returned: at a block boundary; with the input spent or the output full (at a boundary
   * or not: zlib does not say); or at the end of the deflate stream.
   */
  stopped: 'boundary' | 'input' | 'output' | 'end';
}

export class BlockInflater {
  private error: string | undefined;

  private constructor(private readonly stream: InflateRaw, private readonly handle: ZlibHandle, private readonly state: Uint32Array) {
    handle.onerror = (message) => {
      this.error = message;
    };
  }

  static open(): BlockInflater {
    const stream = createInflateRaw();
    const { _handle: handle, _writeState: state } = stream as unknown as InflateInternals;
    if (typeof handle?.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array)) {
      stream.destroy();
      throw new LazyImageError('UNSUPPORTED', `This Node.js (${process.version}) does not let zlib stop at deflate block boundaries, which building a zTOC needs`);
    }
    return new BlockInflater(stream, handle, state);
  }

  /**
   * Inflates into `output[outOff, outEnd)` until the next block boundary (or the stream's end:
   * then nothing more is taken), until `input` is spent or the output is full. `blind` does not
   * stop at boundaries, for stretches where none can matter: it stops only for input, output or
   * the stream's end. Throws zlib's message on corrupt data.
   */
  step(input: Uint8Array, output: Uint8Array, outOff: number, outEnd: number, blind = false): BlockStep {
    const outLen = outEnd - outOff;
    this.handle.writeSync(blind ? constants.Z_NO_FLUSH : constants.Z_BLOCK, input, 0, input.length, output, outOff, outLen);
    if (this.error !== undefined) throw new Error(this.error);
    const [availOut, availIn] = this.state as unknown as [number, number];
    const consumed = input.length - availIn;
    const produced = outLen - availOut;
    // Short of its end, inflate always makes progress (every block takes at least one new
    // byte), and without Z_BLOCK it stops early only there.
    const ended = blind || (consumed === 0 && produced === 0);
    const stopped = availIn === 0 ? 'input' : availOut === 0 ? 'output' : ended ? 'end' : 'boundary';
    return { consumed, produced, stopped };
  }

  /** Starts a new raw stream (the next gzip member). */
  reset(): void {
    this.handle.reset();
  }

  close(): void {
    this.stream.destroy();
  }
}
