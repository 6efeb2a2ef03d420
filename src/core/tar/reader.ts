// A push-mode tar parser that reads headers the way Go's archive/tar does (containerd and the
// snapshotters are Go): ustar prefixes, PAX records (path, linkpath, size, ids, names, mtime,
// SCHILY.xattr.*), GNU long names and links, base-256 numbers, the old '\0' type. It hands over
// each entry's raw header bytes too, so a converter can re-emit them unchanged.
import { LazyImageError } from '../errors.js';

export type TarType = 'reg' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  name: string;
  type: TarType;
  /** The raw mode field (some producers include the S_IF* bits). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Payload bytes that follow the header (0 for header-only types whatever the size field says). */
  size: number;
  /** The size field as written (PAX included), which Go reports even for header-only types. */
  declaredSize: number;
  /** Seconds and nanoseconds since the epoch (PAX mtime can have a fraction). */
  mtime: { seconds: number; nanos: number };
  linkname: string;
  devmajor: number;
  devminor: number;
  /** From PAX `SCHILY.xattr.<name>` records; values as raw bytes. */
  xattrs: Map<string, Buffer>;
  /** Every PAX record of the entry, values as raw bytes (Go's `Header.PAXRecords`). */
  pax: Map<string, Buffer>;
}

export interface TarEvents {
  /** `raw` is every byte of the header, extension headers included; the payload starts at `dataOffset`. */
  entry(header: TarHeader, raw: Buffer, dataOffset: number): void;
  /** Payload bytes of the last entry, in order (padding excluded). */
  data(chunk: Buffer): void;
}

const BLOCK = 512;
/** Go's limit for PAX and GNU long-name bodies; larger ones are an attack or garbage. */
const MAX_SPECIAL_SIZE = 1 << 20;
/** Extension headers kept for one entry: room for a PAX header, a long name and a long link. */
const MAX_SPECIAL_TOTAL = 4 * MAX_SPECIAL_SIZE;
const TYPES: Record<string, TarType> = { '0': 'reg', '\0': 'reg', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };
const HEADER_ONLY = new Set<TarType>(['hardlink', 'symlink', 'char', 'block', 'dir', 'fifo']);

type State =
  | { kind: 'header' }
  | { kind: 'special'; flag: string; remaining: number; padded: number }
  | { kind: 'data'; remaining: number; pad: number }
  | { kind: 'zero' }
  | { kind: 'end' };

export class TarParser {
  private state: State = { kind: 'header' };
  /** Bytes of the stream consumed so far. */
  private offset = 0;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** Raw bytes of the current entry's extension headers, and what they said. */
  private raw: Buffer[] = [];
  private headerStart = 0;
  private pax = new Map<string, string>();
  private paxRaw = new Map<string, Buffer>();
  private longName: string | undefined;
  private longLink: string | undefined;

  constructor(private readonly events: TarEvents, private readonly where: string) {}

  /** Bytes consumed so far; after the end-of-archive blocks, where Go's reader stops. */
  get position(): number {
    return this.offset;
  }

  /** True once the end-of-archive blocks were seen; later bytes are ignored. */
  get ended(): boolean {
    return this.state.kind === 'end';
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && this.state.kind !== 'end') {
      const state = this.state;
      if (state.kind === 'data') {
        const take = Math.min(state.remaining, chunk.length - at);
        if (take > 0) {
          this.events.data(chunk.subarray(at, at + take));
          state.remaining -= take;
          at += take;
          this.offset += take;
          if (state.remaining === 0 && state.pad === 0) this.state = { kind: 'header' };
          continue;
        }
        const skip = Math.min(state.pad, chunk.length - at);
        state.pad -= skip;
        at += skip;
        this.offset += skip;
        if (state.pad === 0) this.state = { kind: 'header' };
        continue;
      }
      const need = state.kind === 'special' ? state.padded : BLOCK;
      const take = Math.min(need - this.pendingLength, chunk.length - at);
      const piece = chunk.subarray(at, at + take);
      // A piece kept for a later push is copied: the caller may reuse its buffer (the zTOC builder does).
      this.pending.push(this.pendingLength + take < need ? Buffer.from(piece) : piece);
      this.pendingLength += take;
      at += take;
      if (this.pendingLength < need) continue;
      const block = Buffer.concat(this.pending, this.pendingLength);
      this.pending = [];
      this.pendingLength = 0;
      const blockOffset = this.offset;
      this.offset += need;
      if (state.kind === 'special') this.special(state.flag, block, state.remaining);
      else if (state.kind === 'zero') this.afterZero(block, blockOffset);
      else this.header(block, blockOffset);
    }
  }

  /** Call at the end of input: a stream may stop after the last entry or after one zero block, not inside an entry. */
  finish(): void {
    const s = this.state;
    if (s.kind === 'end' || s.kind === 'zero') return;
    if (s.kind === 'header' && this.pendingLength === 0 && this.raw.length === 0) return;
    const what = s.kind === 'data' ? 'inside a file\'s contents' : 'inside a header';
    throw this.error(`the archive is truncated ${what} (at byte ${this.offset + this.pendingLength})`);
  }

  private header(block: Buffer, blockOffset: number): void {
    if (isZero(block)) {
      if (this.raw.length) throw this.error(`an extension header at byte ${this.headerStart} is followed by an end-of-archive block`);
      this.state = { kind: 'zero' };
      return;
    }
    if (!checksumOk(block)) throw this.error(`corrupt tar header at byte ${blockOffset} (bad checksum)`);
    if (this.raw.length === 0) this.headerStart = blockOffset;
    const flag = String.fromCharCode(block[156]!);
    if (flag === 'x' || flag === 'L' || flag === 'K') {
      const size = parseNumeric(block.subarray(124, 136));
      if (size === undefined || size < 0 || size > MAX_SPECIAL_SIZE) throw this.error(`tar extension header at byte ${blockOffset} declares ${size ?? 'an unreadable'} bytes (limit ${MAX_SPECIAL_SIZE})`);
      this.raw.push(block);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      const kept = this.offset + padded - this.headerStart;
      if (kept > MAX_SPECIAL_TOTAL) throw this.error(`the extension headers from byte ${this.headerStart} run past ${MAX_SPECIAL_TOTAL} bytes without an entry`);
      if (padded === 0) return;
      this.state = { kind: 'special', flag, remaining: size, padded };
      return;
    }
    if (flag === 'g') throw this.error(`a PAX global header at byte ${blockOffset} is not supported (the Go converters reject it too)`);
    const type = TYPES[flag];
    if (!type) throw this.error(`unsupported tar entry type '${printable(flag)}' at byte ${blockOffset}`);
    const h = this.build(block, type, blockOffset);
    this.raw.push(block);
    const raw = Buffer.concat(this.raw);
    this.raw = [];
    this.pax = new Map();
    this.paxRaw = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    this.events.entry(h, raw, this.offset);
    const pad = (BLOCK - (h.size % BLOCK)) % BLOCK;
    this.state = h.size > 0 ? { kind: 'data', remaining: h.size, pad } : { kind: 'header' };
  }

  private special(flag: string, body: Buffer, size: number): void {
    this.raw.push(body);
    this.state = { kind: 'header' };
    const content = body.subarray(0, size);
    if (flag === 'x') {
      for (const [k, v, raw] of parsePax(content, () => this.error(`malformed PAX record in the header at byte ${this.headerStart}`))) {
        this.pax.set(k, v);
        this.paxRaw.set(k, raw);
      }
    } else {
      const name = cString(content);
      if (flag === 'L') this.longName = name;
      else this.longLink = name;
    }
  }

  private afterZero(block: Buffer, blockOffset: number): void {
    if (!isZero(block)) throw this.error(`a lone zero block before byte ${blockOffset}: the archive is corrupt`);
    this.state = { kind: 'end' };
  }

  private build(block: Buffer, typeIn: TarType, at: number): TarHeader {
    const magic = block.toString('latin1', 257, 265);
    const ustar = magic === 'ustar\u000000';
    const gnu = magic === 'ustar  \u0000';
    let name = cString(block.subarray(0, 100));
    if (ustar) {
      const star = block.toString('latin1', 508, 512) === 'tar\u0000';
      const prefix = cString(block.subarray(345, star ? 476 : 500));
      if (prefix) name = `${prefix}/${name}`;
    }
    const num = (field: string, from: number, to: number): number => {
      const v = parseNumeric(block.subarray(from, to));
      if (v === undefined) throw this.error(`corrupt tar header at byte ${at}: the ${field} field is not a number`);
      return v;
    };
    const pax = this.pax;
    const paxNumber = (key: string, fallback: number): number => {
      const v = pax.get(key);
      if (v === undefined) return fallback;
      if (!/^-?\d+$/.test(v)) throw this.error(`PAX record ${key}=${printable(v)} at byte ${this.headerStart} is not a number`);
      return Number(v);
    };
    for (const key of pax.keys()) {
      if (key.startsWith('GNU.sparse.')) throw this.error(`sparse files are not supported (entry at byte ${this.headerStart})`);
    }
    name = pax.get('path') ?? this.longName ?? name;
    let type = typeIn;
    if (block[156] === 0 && name.endsWith('/')) type = 'dir';
    const size = paxNumber('size', num('size', 124, 136));
    if (size < 0 || !Number.isSafeInteger(size)) throw this.error(`tar header at byte ${at} declares a size of ${size}`);
    const xattrs = new Map<string, Buffer>();
    for (const [k, v] of pax) if (k.startsWith('SCHILY.xattr.')) xattrs.set(k.slice('SCHILY.xattr.'.length), Buffer.from(v, 'latin1'));
    return {
      name,
      type,
      mode: num('mode', 100, 108),
      uid: paxNumber('uid', num('uid', 108, 116)),
      gid: paxNumber('gid', num('gid', 116, 124)),
      uname: pax.get('uname') ?? (ustar || gnu ? cString(block.subarray(265, 297)) : ''),
      gname: pax.get('gname') ?? (ustar || gnu ? cString(block.subarray(297, 329)) : ''),
      size: HEADER_ONLY.has(type) ? 0 : size,
      declaredSize: size,
      mtime: parseMtime(pax.get('mtime'), num('mtime', 136, 148), () => this.error(`PAX mtime at byte ${this.headerStart} is not a time`)),
      linkname: pax.get('linkpath') ?? this.longLink ?? cString(block.subarray(157, 257)),
      devmajor: ustar || gnu ? num('devmajor', 329, 337) : 0,
      devminor: ustar || gnu ? num('devminor', 337, 345) : 0,
      xattrs,
      pax: this.paxRaw,
    };
  }

  private error(message: string): LazyImageError {
    return new LazyImageError('INVALID_FORMAT', `${this.where}: ${message}`, { ref: this.where });
  }
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Go accepts both the unsigned and the (historical) signed sum, with the field read as spaces. */
function checksumOk(block: Buffer): boolean {
  const stored = parseNumeric(block.subarray(148, 156));
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

/** Octal (with NUL/space padding) or, with the high bit set, big-endian base-256. */
export function parseNumeric(field: Buffer): number | undefined {
  if (field.length && field[0]! & 0x80) {
    const negative = (field[0]! & 0x40) !== 0;
    let v = 0;
    for (let i = 0; i < field.length; i++) {
      let b = field[i]!;
      if (i === 0) b &= 0x7f;
      if (negative) b ^= 0xff;
      v = v * 256 + b;
      if (!Number.isSafeInteger(v)) return undefined;
    }
    return negative ? -(v + 1) : v;
  }
  const text = field.toString('latin1').replace(/^[ \0]+|[ \0]+$/g, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return undefined;
  const v = parseInt(text, 8);
  return Number.isSafeInteger(v) ? v : undefined;
}

function cString(field: Buffer): string {
  const end = field.indexOf(0);
  return field.toString('utf8', 0, end < 0 ? field.length : end);
}

/** PAX records: `<length> <key>=<value>\n`, where the length counts the whole record. */
function parsePax(body: Buffer, fail: () => Error): Array<[string, string, Buffer]> {
  const out: Array<[string, string, Buffer]> = [];
  let at = 0;
  while (at < body.length) {
    if (body[at] === 0) break;
    const space = body.indexOf(0x20, at);
    if (space < 0 || space - at > 20) throw fail();
    const length = Number(body.toString('latin1', at, space));
    if (!Number.isSafeInteger(length) || length <= space - at + 1 || at + length > body.length || body[at + length - 1] !== 0x0a) throw fail();
    const record = body.subarray(space + 1, at + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw fail();
    const key = record.toString('utf8', 0, eq);
    // xattr values are bytes; everything else is UTF-8 text.
    const value = key.startsWith('SCHILY.xattr.') ? record.toString('latin1', eq + 1) : record.toString('utf8', eq + 1);
    out.push([key, value, Buffer.from(record.subarray(eq + 1))]);
    at += length;
  }
  return out;
}

function parseMtime(pax: string | undefined, header: number, fail: () => Error): { seconds: number; nanos: number } {
  if (pax === undefined) return { seconds: header, nanos: 0 };
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(pax);
  if (!m) throw fail();
  const seconds = Number(m[2]) * (m[1] ? -1 : 1);
  const nanos = Number((m[3] ?? '').padEnd(9, '0').slice(0, 9)) * (m[1] ? -1 : 1);
  return { seconds, nanos };
}

function printable(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}
