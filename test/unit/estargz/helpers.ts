// Shared by the eStargz tests: tar fixtures and an independent tar reader (Python's tarfile, in
// test/helpers/tarfixtures.py), and a conversion into memory.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { buildEstargz, type BuildOptions, type BuiltLayer } from '../../../src/core/estargz/build.js';
import type { BlobAccess, Descriptor } from '../../../src/core/oci/index.js';
import { cleanEntryName } from '../../../src/core/tar/index.js';
import { run } from '../helpers/proc.js';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const FIXTURES = resolve(ROOT, 'test', 'helpers', 'tarfixtures.py');

export interface DumpedEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, string>;
  size: number;
  sha256: string;
}

export async function makeTar(name: string, ...args: string[]): Promise<Buffer> {
  const r = await run('python3', [FIXTURES, 'make', name, ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** Every entry of a tar (or gzip of one), as Python's tarfile reads it. */
export async function dumpTar(bytes: Buffer): Promise<DumpedEntry[]> {
  const r = await run('python3', [FIXTURES, 'dump'], { input: bytes });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString('utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as DumpedEntry);
}

/** The tree a tar describes: by cleaned path, the last entry for a path winning. */
export function treeOf(entries: DumpedEntry[]): Map<string, DumpedEntry> {
  const tree = new Map<string, DumpedEntry>();
  for (const e of entries) tree.set(cleanEntryName(e.name), { ...e, name: cleanEntryName(e.name) });
  return tree;
}

export async function convert(tar: Buffer, dir: string, options: BuildOptions = {}): Promise<{ built: BuiltLayer; blob: Buffer }> {
  const built = await buildEstargz(async () => Readable.from([tar]), dir, 'test layer', options);
  return { built, blob: await readFile(built.file) };
}

export function access(blob: Buffer): BlobAccess {
  return { size: blob.length, read: async (offset, length) => blob.subarray(offset, offset + length) };
}

/** A gzip layer's descriptor for `blob`, with these annotations. */
export function layerOf(blob: Buffer, annotations?: Record<string, string>): Descriptor {
  return { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${createHash('sha256').update(blob).digest('hex')}`, size: blob.length, annotations };
}
