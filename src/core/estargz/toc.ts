// The eStargz table of contents (`stargz.index.json`): its entries, its JSON as the Go writer lays
// it out (field order, omitted zero values, tab indent, HTML-safe escapes), and a strict reader
// that checks every field a snapshotter relies on.
import { LazyImageError } from '../errors.js';

export const TOC_TAR_NAME = 'stargz.index.json';
export const PREFETCH_LANDMARK = '.prefetch.landmark';
export const NO_PREFETCH_LANDMARK = '.no.prefetch.landmark';
/** A landmark's whole content: one byte. */
export const LANDMARK_CONTENT = Buffer.from([0x0f]);
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

export type TocEntryType = 'dir' | 'reg' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'chunk';
const TYPES = new Set<string>(['dir', 'reg', 'symlink', 'hardlink', 'char', 'block', 'fifo', 'chunk']);

export interface TocEntry {
  name: string;
  type: TocEntryType;
  size?: number;
  modtime?: string;
  linkName?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  userName?: string;
  groupName?: string;
  offset?: number;
  innerOffset?: number;
  devMajor?: number;
  devMinor?: number;
  /** Base64 in JSON (Go `[]byte`), raw bytes here. */
  xattrs?: Map<string, Buffer>;
  digest?: string;
  chunkOffset?: number;
  chunkSize?: number;
  chunkDigest?: string;
}

export interface Toc {
  version: number;
  entries: TocEntry[];
}

/** Go's field order; all but name and type are left out when zero or empty. */
const FIELD_ORDER: ReadonlyArray<keyof TocEntry> = [
  'name', 'type', 'size', 'modtime', 'linkName', 'mode', 'uid', 'gid', 'userName', 'groupName',
  'offset', 'innerOffset', 'devMajor', 'devMinor', 'xattrs', 'digest', 'chunkOffset', 'chunkSize', 'chunkDigest',
];

/** The TOC as `json.MarshalIndent(toc, "", "\t")` writes it. */
export function serializeToc(toc: Toc): Buffer {
  const lines = ['{', `\t"version": ${toc.version},`];
  if (toc.entries.length === 0) {
    lines.push('\t"entries": []');
  } else {
    lines.push('\t"entries": [');
    toc.entries.forEach((entry, i) => {
      const fields: string[] = [];
      for (const key of FIELD_ORDER) {
        const value = entry[key];
        if (key !== 'name' && key !== 'type' && (value === undefined || value === 0 || value === '')) continue;
        if (value instanceof Map) {
          if (value.size === 0) continue;
          const keys = [...value.keys()].sort();
          const inner = keys.map((k) => `\t\t\t\t${goString(k)}: ${goString((value.get(k) as Buffer).toString('base64'))}`);
          fields.push(`\t\t\t"${key}": {\n${inner.join(',\n')}\n\t\t\t}`);
        } else {
          fields.push(`\t\t\t"${key}": ${typeof value === 'number' ? String(value) : goString(String(value))}`);
        }
      }
      lines.push(`\t\t{\n${fields.join(',\n')}\n\t\t}${i < toc.entries.length - 1 ? ',' : ''}`);
    });
    lines.push('\t]');
  }
  lines.push('}');
  return Buffer.from(lines.join('\n'));
}

/** JSON string with Go's extra escapes for <, >, & and the two line separators. */
function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go matches JSON keys to fields case-insensitively; unknown keys (like `NumLink`) are ignored. */
const FIELD_BY_LOWER = new Map(FIELD_ORDER.map((k) => [k.toLowerCase(), k]));
const INT_FIELDS = new Set<keyof TocEntry>(['size', 'mode', 'uid', 'gid', 'offset', 'innerOffset', 'devMajor', 'devMinor', 'chunkOffset', 'chunkSize']);
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/**
 * Parses TOC JSON. Throws on anything the Go reader would reject or that would make entries
 * unusable (bad types, negative numbers, malformed digests, chunks without a file, names that
 * climb out of the root); `where` names the layer in messages.
 */
export function parseToc(json: Buffer, where: string): Toc {
  const fail = (message: string): LazyImageError => new LazyImageError('INVALID_FORMAT', `${where}: ${message}`, { ref: where });
  let raw: unknown;
  try {
    raw = JSON.parse(json.toString('utf8'));
  } catch (e) {
    throw fail(`the TOC is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(raw)) throw fail('the TOC is not a JSON object');
  const top = lowerKeys(raw);
  const version = top.get('version');
  if (version !== 1) throw fail(`the TOC version is ${JSON.stringify(version)}, not 1`);
  const list = top.get('entries');
  if (!Array.isArray(list)) throw fail('the TOC has no "entries" array');
  const entries = list.map((item, i) => parseEntry(item, i, fail));
  entries.forEach((e, i) => {
    if (e.type !== 'chunk') return;
    const prev = entries[i - 1];
    if (!prev || (prev.type !== 'reg' && prev.type !== 'chunk')) throw fail(`TOC entry ${i} is a chunk that does not follow a regular file`);
  });
  return { version, entries };
}

function parseEntry(item: unknown, i: number, fail: (m: string) => Error): TocEntry {
  if (!isObject(item)) throw fail(`TOC entry ${i} is not an object`);
  const entry: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    const field = FIELD_BY_LOWER.get(k.toLowerCase());
    if (!field || (field in entry && k !== field)) continue;
    entry[field] = v;
  }
  const { name, type } = entry;
  if (typeof name !== 'string') throw fail(`TOC entry ${i} has no name`);
  const label = `TOC entry ${i} (${JSON.stringify(name)})`;
  if (typeof type !== 'string' || !TYPES.has(type)) throw fail(`${label} has the unknown type ${JSON.stringify(type)}`);
  if (type !== 'chunk' && name.split('/').includes('..')) throw fail(`${label} climbs out of the layer root`);
  const out: TocEntry = { name, type: type as TocEntryType };
  for (const key of FIELD_ORDER) {
    const v = entry[key];
    if (key === 'name' || key === 'type' || v === undefined || v === null) continue;
    if (INT_FIELDS.has(key)) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw fail(`${label} has ${key} ${JSON.stringify(v)}, not a non-negative integer`);
      (out as unknown as Record<string, unknown>)[key] = v;
    } else if (key === 'xattrs') {
      if (!isObject(v)) throw fail(`${label} has xattrs that are not an object`);
      const map = new Map<string, Buffer>();
      for (const [k, b64] of Object.entries(v)) {
        if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw fail(`${label} has xattr ${k} that is not base64`);
        map.set(k, Buffer.from(b64, 'base64'));
      }
      out.xattrs = map;
    } else {
      if (typeof v !== 'string') throw fail(`${label} has ${key} ${JSON.stringify(v)}, not a string`);
      if ((key === 'digest' || key === 'chunkDigest') && v !== '' && !DIGEST_RE.test(v)) throw fail(`${label} has the malformed ${key} ${JSON.stringify(v)}`);
      (out as unknown as Record<string, unknown>)[key] = v;
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lowerKeys(o: Record<string, unknown>): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (const [k, v] of Object.entries(o)) if (!m.has(k.toLowerCase()) || k === k.toLowerCase()) m.set(k.toLowerCase(), v);
  return m;
}

/** RFC 3339 in UTC rounded to whole seconds, or nothing for the zero time and the epoch (as Go). */
export function formatModtime(seconds: number, nanos: number): string | undefined {
  const rounded = seconds + (Math.abs(nanos) >= 500_000_000 ? Math.sign(nanos) : 0);
  if (rounded === 0) return undefined;
  const date = new Date(rounded * 1000);
  if (Number.isNaN(date.getTime())) return undefined;
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
