// pako's zlib port, used where node:zlib cannot go: stopping at deflate block boundaries, and
// priming an inflater with the bits and window of a checkpoint. Only what src/core/soci uses.
declare module 'pako/lib/zlib/zstream.js' {
  export default class ZStream {
    input: Uint8Array | null;
    next_in: number;
    avail_in: number;
    total_in: number;
    output: Uint8Array | null;
    next_out: number;
    avail_out: number;
    total_out: number;
    msg: string;
    data_type: number;
    state: { hold: number; bits: number } | null;
  }
}

declare module 'pako/lib/zlib/inflate.js' {
  import type ZStream from 'pako/lib/zlib/zstream.js';
  export function inflateInit2(strm: ZStream, windowBits: number): number;
  export function inflateReset2(strm: ZStream, windowBits: number): number;
  export function inflate(strm: ZStream, flush: number): number;
  export function inflateEnd(strm: ZStream): number;
  export function inflateSetDictionary(strm: ZStream, dictionary: Uint8Array): number;
}
