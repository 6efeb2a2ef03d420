// A streaming tar writer (POSIX ustar, with PAX records for what ustar cannot hold).
import { Readable } from 'node:stream';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink';

export interface TarEntry {
  name: string;
  type: TarEntryType;
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch; 0 by default, so the same input gives the same bytes. */
  mtime?: number;
  linkname?: string;
  /** File content: bytes, or a size plus a stream producing exactly that many bytes. */
  content?: Buffer | { size: number; stream: () => Readable };
}

const BLOCK = 512;
const TYPEFLAG: Record<TarEntryType, string> = { file: '0', hardlink: '1', symlink: '2', directory: '5' };
const OCTAL_LIMIT_12 = 8 ** 11; // first size a 12-byte octal field cannot hold
const OCTAL_LIMIT_8 = 8 ** 7; // first id an 8-byte octal field cannot hold

/** The tar stream of `entries`, ending with the two zero blocks. */
export function tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): Readable {
  return Readable.from(generate(entries), { objectMode: false });
}

async function* generate(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>): AsyncGenerator<Buffer> {
  for await (const entry of entries) {
    const size = entry.type === 'file' ? contentSize(entry) : 0;
    yield* headerBlocks(entry, size);
    if (size === 0 || entry.content === undefined) continue;
    if (Buffer.isBuffer(entry.content)) {
      yield entry.content;
    } else {
      let written = 0;
      for await (const chunk of entry.content.stream()) {
        written += (chunk as Buffer).length;
        if (written > size) throw new Error(`tar entry ${entry.name}: content is longer than its declared ${size} bytes`);
        yield chunk as Buffer;
      }
      if (written !== size) throw new Error(`tar entry ${entry.name}: content is ${written} bytes, declared ${size}`);
    }
    if (size % BLOCK) yield Buffer.alloc(BLOCK - (size % BLOCK));
  }
  yield Buffer.alloc(BLOCK * 2);
}

function contentSize(entry: TarEntry): number {
  if (entry.content === undefined) return 0;
  return Buffer.isBuffer(entry.content) ? entry.content.length : entry.content.size;
}

function headerBlocks(entry: TarEntry, size: number): Buffer[] {
  const pax: Record<string, string> = {};
  const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  if (Buffer.byteLength(name) > 100) pax.path = name;
  if (entry.linkname && Buffer.byteLength(entry.linkname) > 100) pax.linkpath = entry.linkname;
  if (size >= OCTAL_LIMIT_12) pax.size = String(size);
  const uid = entry.uid ?? 0;
  const gid = entry.gid ?? 0;
  if (uid >= OCTAL_LIMIT_8) pax.uid = String(uid);
  if (gid >= OCTAL_LIMIT_8) pax.gid = String(gid);
  const blocks: Buffer[] = [];
  if (Object.keys(pax).length) {
    const body = Buffer.from(Object.entries(pax).map(([k, v]) => paxRecord(k, v)).join(''));
    blocks.push(tarHeaderBlock({ name: 'PaxHeaders/entry', size: body.length, typeflag: 'x', mode: 0o644 }), body);
    if (body.length % BLOCK) blocks.push(Buffer.alloc(BLOCK - (body.length % BLOCK)));
  }
  blocks.push(tarHeaderBlock({
    name: truncateUtf8(name, 100),
    size: size >= OCTAL_LIMIT_12 ? 0 : size,
    typeflag: TYPEFLAG[entry.type],
    mode: entry.mode ?? (entry.type === 'directory' ? 0o755 : 0o644),
    uid: uid >= OCTAL_LIMIT_8 ? 0 : uid,
    gid: gid >= OCTAL_LIMIT_8 ? 0 : gid,
    mtime: entry.mtime ?? 0,
    linkname: truncateUtf8(entry.linkname ?? '', 100),
  }));
  return blocks;
}

/** A PAX record is `<len> <key>=<value>\n` where len counts itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(rest) + 1;
  while (String(len).length + Buffer.byteLength(rest) !== len) len++;
  return `${len}${rest}`;
}

export interface HeaderFields {
  name: string;
  size: number;
  typeflag: string;
  mode: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
}

/** One ustar header block. */
export function tarHeaderBlock(f: HeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, 0, 100, 'utf8');
  octal(b, 100, 8, f.mode);
  octal(b, 108, 8, f.uid ?? 0);
  octal(b, 116, 8, f.gid ?? 0);
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, f.mtime ?? 0);
  b.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  b.write(f.typeflag, 156, 1, 'latin1');
  b.write(f.linkname ?? '', 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'latin1');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return b;
}

function octal(b: Buffer, offset: number, length: number, value: number): void {
  b.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'latin1');
}

function truncateUtf8(s: string, bytes: number): string {
  let out = s;
  while (Buffer.byteLength(out) > bytes) out = out.slice(0, -1);
  return out;
}
