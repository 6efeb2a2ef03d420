// The zTOC: soci's flatbuffer describing a layer's tar entries and its gzip checkpoints
// (schema `ztoc.fbs` in soci-snapshotter: tables Ztoc, TOC, FileMetadata, Xattr, CompressionInfo;
// no file identifier). Written with the flatbuffers package; read with a small reader of our own
// that checks every offset and length, since a zTOC comes from a registry.
import { Builder } from 'flatbuffers';
import { LazyImageError } from '../errors.js';

export const ZTOC_VERSION = '0.9';
export const BUILD_TOOL_IDENTIFIER = 'AWS SOCI CLI v0.2';

export type CompressionAlgorithm = 'gzip' | 'uncompressed';

export interface ZtocEntry {
  name: string;
  type: string;
  /** Where the entry's data starts in the uncompressed tar, and its length (the header's size field). */
  uncompressedOffset: number;
  uncompressedSize: number;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** RFC 3339, as Go's time.MarshalText writes it. */
  modTime: string;
  devmajor: number;
  devminor: number;
  /** Every PAX record of the entry (not only xattrs), values as bytes. */
  pax: Map<string, Buffer>;
}

export interface Ztoc {
  version: string;
  buildToolIdentifier: string;
  compressedArchiveSize: number;
  uncompressedArchiveSize: number;
  entries: ZtocEntry[];
  compressionAlgorithm: CompressionAlgorithm;
  maxSpanId: number;
  spanDigests: string[];
  /** The zinfo blob: gzip checkpoints, or for a plain tar the small TarZinfo flatbuffer. */
  checkpoints: Buffer;
}

const ALGORITHMS: Record<number, CompressionAlgorithm> = { 1: 'gzip', 2: 'uncompressed' };

export function encodeZtoc(z: Ztoc): Buffer {
  const b = new Builder(1024);
  const version = b.createString(z.version);
  const tool = b.createString(z.buildToolIdentifier);
  // The same build order as Go's marshaler (entries last to first), so the bytes come out the same.
  const entries: number[] = [];
  for (let i = z.entries.length - 1; i >= 0; i--) entries[i] = entryOffset(b, z.entries[i]!);
  const metadata = offsetVector(b, entries);
  b.startObject(1);
  b.addFieldOffset(0, metadata, 0);
  const toc = b.endObject();
  const checkpoints = b.createByteVector(z.checkpoints);
  const digests = offsetVector(b, z.spanDigests.map((d) => b.createString(d)));
  b.startObject(4);
  b.addFieldInt32(1, z.maxSpanId, 0);
  b.addFieldOffset(2, digests, 0);
  b.addFieldOffset(3, checkpoints, 0);
  // Gzip is the schema's default, so like Go's builder we leave it out.
  b.addFieldInt8(0, z.compressionAlgorithm === 'gzip' ? 1 : 2, 1);
  const info = b.endObject();
  b.startObject(6);
  b.addFieldOffset(0, version, 0);
  b.addFieldOffset(1, tool, 0);
  b.addFieldOffset(4, toc, 0);
  b.addFieldInt64(2, BigInt(z.compressedArchiveSize), 0n);
  b.addFieldInt64(3, BigInt(z.uncompressedArchiveSize), 0n);
  b.addFieldOffset(5, info, 0);
  b.finish(b.endObject());
  return Buffer.from(b.asUint8Array());
}

function entryOffset(b: Builder, e: ZtocEntry): number {
  const name = b.createString(e.name);
  const type = b.createString(e.type);
  const linkname = b.createString(e.linkname);
  const uname = b.createString(e.uname);
  const gname = b.createString(e.gname);
  const modTime = b.createString(e.modTime);
  // Go's sort.Strings order: by bytes.
  const keys = [...e.pax.keys()].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const xattrs = offsetVector(b, keys.map((k) => {
    const key = b.createString(k);
    const value = b.createString(e.pax.get(k)!);
    b.startObject(2);
    b.addFieldOffset(0, key, 0);
    b.addFieldOffset(1, value, 0);
    return b.endObject();
  }));
  b.startObject(14);
  b.addFieldOffset(0, name, 0);
  b.addFieldOffset(1, type, 0);
  b.addFieldInt64(2, BigInt(e.uncompressedOffset), 0n);
  b.addFieldInt64(3, BigInt(e.uncompressedSize), 0n);
  b.addFieldOffset(4, linkname, 0);
  b.addFieldInt64(5, BigInt(e.mode), 0n);
  b.addFieldInt32(6, e.uid, 0);
  b.addFieldInt32(7, e.gid, 0);
  b.addFieldOffset(8, uname, 0);
  b.addFieldOffset(9, gname, 0);
  b.addFieldOffset(10, modTime, 0);
  b.addFieldInt64(11, BigInt(e.devmajor), 0n);
  b.addFieldInt64(12, BigInt(e.devminor), 0n);
  b.addFieldOffset(13, xattrs, 0);
  return b.endObject();
}

function offsetVector(b: Builder, offsets: number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

/** A plain tar layer's "checkpoints": the small TarZinfo flatbuffer (version 2, span size, tar size). */
export interface TarZinfo {
  version: number;
  spanSize: number;
  size: number;
}

export const TAR_ZINFO_VERSION = 2;

export function encodeTarZinfo(z: TarZinfo): Buffer {
  const b = new Builder(64);
  b.startObject(3);
  b.addFieldInt32(0, z.version, 0);
  b.addFieldInt64(1, BigInt(z.spanSize), 0n);
  b.addFieldInt64(2, BigInt(z.size), 0n);
  b.finish(b.endObject());
  return Buffer.from(b.asUint8Array());
}

export function decodeTarZinfo(bytes: Buffer, where: string): TarZinfo {
  const r = new Reader(bytes, where);
  const root = r.root();
  return { version: r.int32(root, 0), spanSize: r.int64(root, 1), size: r.int64(root, 2) };
}

/** Decodes a zTOC; anything pointing outside the buffer, or out of order, is a clear error. */
export function decodeZtoc(bytes: Buffer, where: string): Ztoc {
  const r = new Reader(bytes, where);
  const root = r.root();
  const tocTable = r.table(root, 4);
  const info = r.table(root, 5);
  if (tocTable === undefined || info === undefined) throw r.fail(`has no ${tocTable === undefined ? 'TOC' : 'compression info'}`);
  const entries = r.tables(tocTable, 0).map((t, i): ZtocEntry => {
    const pax = new Map<string, Buffer>();
    for (const x of r.tables(t, 13)) pax.set(r.string(x, 0), r.bytes(x, 1));
    const entry: ZtocEntry = {
      name: r.string(t, 0), type: r.string(t, 1),
      uncompressedOffset: r.int64(t, 2), uncompressedSize: r.int64(t, 3),
      linkname: r.string(t, 4), mode: r.int64(t, 5), uid: r.uint32(t, 6), gid: r.uint32(t, 7),
      uname: r.string(t, 8), gname: r.string(t, 9), modTime: r.string(t, 10),
      devmajor: r.int64(t, 11), devminor: r.int64(t, 12), pax,
    };
    if (entry.uncompressedOffset < 0 || entry.uncompressedSize < 0) throw r.fail(`gives entry ${i} (${JSON.stringify(entry.name)}) a negative offset or size`);
    return entry;
  });
  const algorithmCode = r.int8(info, 0, 1);
  const compressionAlgorithm = ALGORITHMS[algorithmCode];
  if (!compressionAlgorithm) throw r.fail(`names compression algorithm ${algorithmCode}, neither gzip (1) nor uncompressed (2)`);
  const spanDigests = r.vector(info, 2, 4).map((at) => r.stringAt(r.indirect(at)));
  return {
    version: r.string(root, 0),
    buildToolIdentifier: r.string(root, 1),
    compressedArchiveSize: r.int64(root, 2),
    uncompressedArchiveSize: r.int64(root, 3),
    entries,
    compressionAlgorithm,
    maxSpanId: r.int32(info, 1),
    spanDigests,
    checkpoints: r.bytesVector(info, 3),
  };
}

/** A bounds-checked flatbuffer reader: tables, their fields by slot, strings and vectors. */
class Reader {
  constructor(private readonly buf: Buffer, private readonly where: string) {}

  fail(why: string): LazyImageError {
    return new LazyImageError('INVALID_FORMAT', `${this.where}: the zTOC ${why}`, { ref: this.where });
  }

  root(): number {
    return this.indirect(0);
  }

  /** The absolute position an offset at `at` points to. */
  indirect(at: number): number {
    const to = at + this.u32(at);
    this.check(to, 4, 'a table or string');
    return to;
  }

  /** Position of a field's value in the table at `table`, or undefined when the field is absent. */
  field(table: number, slot: number): number | undefined {
    const vtable = table - this.i32(table);
    this.check(vtable, 4, 'a vtable');
    const vsize = this.u16(vtable);
    const entry = 4 + slot * 2;
    if (entry + 2 > vsize) return undefined;
    this.check(vtable, vsize, 'a vtable');
    const offset = this.u16(vtable + entry);
    return offset === 0 ? undefined : table + offset;
  }

  table(table: number, slot: number): number | undefined {
    const at = this.field(table, slot);
    return at === undefined ? undefined : this.indirect(at);
  }

  string(table: number, slot: number): string {
    const at = this.field(table, slot);
    return at === undefined ? '' : this.stringAt(this.indirect(at));
  }

  stringAt(at: number): string {
    const length = this.u32(at);
    this.check(at + 4, length, 'a string');
    return this.buf.toString('utf8', at + 4, at + 4 + length);
  }

  bytes(table: number, slot: number): Buffer {
    const at = this.field(table, slot);
    if (at === undefined) return Buffer.alloc(0);
    const to = this.indirect(at);
    const length = this.u32(to);
    this.check(to + 4, length, 'a string');
    return Buffer.from(this.buf.subarray(to + 4, to + 4 + length));
  }

  bytesVector(table: number, slot: number): Buffer {
    const at = this.field(table, slot);
    if (at === undefined) return Buffer.alloc(0);
    const to = this.indirect(at);
    const length = this.u32(to);
    this.check(to + 4, length, 'a byte vector');
    return this.buf.subarray(to + 4, to + 4 + length);
  }

  /** Positions of the elements of a vector field (each `size` bytes). */
  vector(table: number, slot: number, size: number): number[] {
    const at = this.field(table, slot);
    if (at === undefined) return [];
    const to = this.indirect(at);
    const length = this.u32(to);
    this.check(to + 4, length * size, 'a vector');
    return Array.from({ length }, (_, i) => to + 4 + i * size);
  }

  tables(table: number, slot: number): number[] {
    return this.vector(table, slot, 4).map((at) => this.indirect(at));
  }

  int8(table: number, slot: number, fallback = 0): number {
    const at = this.field(table, slot);
    if (at === undefined) return fallback;
    this.check(at, 1, 'a field');
    return this.buf.readInt8(at);
  }

  int32(table: number, slot: number): number {
    const at = this.field(table, slot);
    return at === undefined ? 0 : this.i32(at);
  }

  uint32(table: number, slot: number): number {
    const at = this.field(table, slot);
    return at === undefined ? 0 : this.u32(at);
  }

  int64(table: number, slot: number): number {
    const at = this.field(table, slot);
    if (at === undefined) return 0;
    this.check(at, 8, 'a field');
    const v = this.buf.readBigInt64LE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`holds ${v} at byte ${at}, beyond what it can describe`);
    return Number(v);
  }

  private u16(at: number): number {
    this.check(at, 2, 'a field');
    return this.buf.readUInt16LE(at);
  }

  private u32(at: number): number {
    this.check(at, 4, 'an offset');
    return this.buf.readUInt32LE(at);
  }

  private i32(at: number): number {
    this.check(at, 4, 'an offset');
    return this.buf.readInt32LE(at);
  }

  private check(at: number, length: number, what: string): void {
    if (!Number.isSafeInteger(at) || at < 0 || length < 0 || at + length > this.buf.length) {
      throw this.fail(`points to ${what} at byte ${at} (${length} bytes), outside its ${this.buf.length} bytes`);
    }
  }
}
