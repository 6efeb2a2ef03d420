// First pass of a conversion: the source layer (gzip, zstd where Node has it, or plain tar) is
// decompressed once into a temporary file while its tar headers are parsed and every file and
// chunk is hashed. Later passes read payloads from that file in any order.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pipeline, Transform, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { FileDigests } from './digests.js';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { formatBytes } from '../format.js';
import { inflateAllowance, MAX_INFLATE_RATIO } from '../limits.js';
import { TarParser, type TarHeader } from '../tar/index.js';

export interface SpooledEntry {
  header: TarHeader;
  /** The entry's header bytes as they came, extension headers included. */
  raw: Buffer;
  /** Where the payload starts in the spool file. */
  dataOffset: number;
  /** For regular files: sha256 of the whole payload and of each chunk. */
  digest?: string;
  chunkDigests?: string[];
}

export interface SpoolOptions {
  chunkSize: number;
  /** The source blob's size, which bounds what it may inflate to. */
  size?: number;
  signal?: AbortSignal;
  /** Compressed bytes read so far. */
  onRead?: (bytes: number) => void;
}

export type Compression = 'gzip' | 'zstd' | 'none';

function sniffCompression(head: Buffer): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** Spools `source` into `file`; `where` names the layer in errors. */
export async function spoolLayer(source: Readable, file: string, where: string, options: SpoolOptions): Promise<{ entries: SpooledEntry[]; compression: Compression }> {
  const entries: SpooledEntry[] = [];
  let current: { entry: SpooledEntry; digests: FileDigests } | undefined;
  const finishEntry = (): void => {
    if (!current) return;
    Object.assign(current.entry, current.digests.finish());
    current = undefined;
  };
  const parser = new TarParser({
    entry(header, raw, dataOffset) {
      finishEntry();
      const entry: SpooledEntry = { header, raw, dataOffset };
      entries.push(entry);
      if (header.type === 'reg') current = { entry, digests: new FileDigests(header.size, options.chunkSize) };
    },
    data(chunk) {
      current?.digests.update(chunk);
    },
  }, where);

  const { stream, compression } = await decompressed(source, where, options);
  const out = createWriteStream(file);
  const outClosed = once(out, 'close');
  try {
    for await (const chunk of stream) {
      throwIfAborted(options.signal, where);
      const buf = chunk as Buffer;
      if (!parser.ended) parser.push(buf);
      if (!out.write(buf)) await once(out, 'drain');
    }
    parser.finish();
    finishEntry();
  } catch (e) {
    stream.destroy();
    throw wrapDecompressError(e, where, compression);
  } finally {
    out.end();
    await outClosed;
  }
  return { entries, compression };
}

/**
 * The tar stream inside a layer blob of any supported compression. Its output is bounded by the
 * blob's `size` (or the bytes read so far, if more): past `inflateAllowance` of it, the stream
 * fails as a likely gzip bomb instead of inflating on.
 */
export async function decompressed(input: Readable, where: string, options: { onRead?: (bytes: number) => void; size?: number }): Promise<{ stream: Readable; compression: Compression }> {
  let read = 0;
  const source = pipeline(input, new Transform({
    transform(c: Buffer, _enc, done) {
      read += c.length;
      options.onRead?.(read);
      done(null, c);
    },
  }), () => undefined);
  // Peek at the magic without consuming it.
  const head = await new Promise<Buffer>((resolve, reject) => {
    const onReadable = (): void => {
      const chunk = source.read() as Buffer | null;
      if (chunk === null) return;
      source.off('readable', onReadable);
      source.off('end', onEnd);
      source.off('error', reject);
      source.unshift(chunk);
      resolve(chunk);
    };
    const onEnd = (): void => resolve(Buffer.alloc(0));
    source.on('readable', onReadable);
    source.once('end', onEnd);
    source.once('error', reject);
  });
  const compression = head.length >= 4 ? sniffCompression(head) : 'none';
  if (compression === 'none') return { stream: source, compression };
  let out = 0;
  const bounded = new Transform({
    transform(c: Buffer, _enc, done) {
      out += c.length;
      const compressed = Math.max(options.size ?? 0, read);
      if (out <= inflateAllowance(compressed)) return done(null, c);
      done(new LazyImageError('INVALID_FORMAT', `${where}: the ${compression} layer inflates past ${formatBytes(inflateAllowance(compressed))}, more than ${MAX_INFLATE_RATIO} times its ${formatBytes(compressed)}: refused as a likely compression bomb`, { ref: where }));
    },
  });
  if (compression === 'gzip') return { stream: pipeline(source, zlib.createGunzip({ chunkSize: 256 * 1024 }), bounded, () => undefined), compression };
  const zstd = (zlib as unknown as { createZstdDecompress?: () => Transform }).createZstdDecompress;
  if (!zstd) throw new LazyImageError('UNSUPPORTED', `${where}: a zstd layer needs Node.js 22.15 or later to decompress (this is ${process.version})`, { ref: where });
  return { stream: pipeline(source, zstd(), bounded, () => undefined), compression };
}

export function wrapDecompressError(e: unknown, where: string, compression: Compression): unknown {
  if (e instanceof LazyImageError) return e;
  const code = (e as { code?: string }).code ?? '';
  if (code.startsWith('Z_') || code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
    const what = code === 'Z_BUF_ERROR' ? 'the compressed data ends early (truncated)' : `the ${compression} data is corrupt (${(e as Error).message})`;
    return new LazyImageError('INVALID_FORMAT', `${where}: ${what}`, { ref: where, cause: e });
  }
  return e;
}
