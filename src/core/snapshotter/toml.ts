// TOML files of the daemons and containerd, parsed by smol-toml. smol-toml reports where a syntax
// error is but not where a key is, so a small scan of the lines finds the line of a key for the
// problems we report about values (best effort: multi-line strings and arrays can hide a key).
import { FormatError } from '../errors.js';

// smol-toml ships ESM types with a CommonJS build, which is what `require` loads here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parse, TomlError } = require('smol-toml') as typeof import('smol-toml', { with: { 'resolution-mode': 'import' } });

export type TomlTable = Record<string, unknown>;

/** Parses a TOML document; a syntax error names the file, line and column. */
export function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
      throw new FormatError('INVALID_FORMAT', `Cannot parse ${file}, line ${e.line}, column ${e.column}: ${reason}`, { format: 'toml', ref: file, offset: e.line, cause: e });
    }
    throw e;
  }
}

const TABLE_HEADER = /^\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/;
const KEY_LINE = /^((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*=/;

/** Splits a dotted TOML key (`a."b.c".d`) into its parts. */
export function splitKey(key: string): string[] {
  return [...key.matchAll(/\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/g)].map((m) => (m[1] !== undefined ? JSON.parse(`"${m[1]}"`) as string : (m[2] ?? m[3])!));
}

/** The 1-based line of each table header and key, by dotted path (the first one wins). */
export function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let table: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const header = TABLE_HEADER.exec(line);
    if (header) {
      table = splitKey(header[1]!);
      if (!lines.has(table.join('.'))) lines.set(table.join('.'), i + 1);
      return;
    }
    const key = KEY_LINE.exec(line);
    if (key) {
      const path = [...table, ...splitKey(key[1]!)].join('.');
      if (!lines.has(path)) lines.set(path, i + 1);
    }
  });
  return lines;
}

/** The kind of a parsed TOML value, in TOML's own words. */
export function tomlKind(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return 'integer';
  if (typeof value === 'number') return 'float';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'date-time';
  return 'table';
}

/** The value at a dotted path of keys, or undefined. */
export function lookup(table: TomlTable, path: readonly string[]): unknown {
  let node: unknown = table;
  for (const part of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || node instanceof Date) return undefined;
    node = (node as TomlTable)[part];
  }
  return node;
}

/** A TOML basic string: JSON's escapes are all valid TOML. */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}
