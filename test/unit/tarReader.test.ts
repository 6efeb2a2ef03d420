// The tar reader against archives GNU tar and Python's tarfile write: names, types and numbers as
// Go's archive/tar reads them, any chunking of the input, and clear errors for damaged archives.
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TarParser, type TarHeader } from '../../src/core/tar/reader.js';
import { tarHeaderBlock } from '../../src/core/tar/writer.js';
import { assertThrowsCode } from './helpers/errors.js';
import { run } from './helpers/proc.js';
import { useTempDirs } from './helpers/tmp.js';
import { makeTar } from './estargz/helpers.js';

const tempDir = useTempDirs('lazyimg-tarreader-');

function parse(tar: Buffer, chunk = tar.length, finish = chunk !== 1): Array<{ h: TarHeader; data: number; raw: number }> {
  const out: Array<{ h: TarHeader; data: number; raw: number }> = [];
  const p = new TarParser({
    entry: (h, raw) => out.push({ h, data: 0, raw: raw.length }),
    data: (c) => (out[out.length - 1]!.data += c.length),
  }, 'test.tar');
  for (let i = 0; i < tar.length; i += chunk) p.push(tar.subarray(i, i + chunk));
  if (finish) p.finish();
  return out;
}

describe('tar reader', () => {
  it('reads GNU tar long names and link targets', async () => {
    const dir = await tempDir();
    const long = `${'d'.repeat(120)}/${'f'.repeat(130)}`;
    await mkdir(join(dir, 'src', 'd'.repeat(120)), { recursive: true });
    await writeFile(join(dir, 'src', long), 'content');
    await symlink(`../${'t'.repeat(140)}`, join(dir, 'src', 'link'));
    const r = await run('tar', ['--format=gnu', '--sort=name', '-C', join(dir, 'src'), '-cf', '-', '.']);
    assert.equal(r.code, 0, r.stderr);
    const entries = parse(r.stdout);
    const file = entries.find((e) => e.h.name === `./${long}`);
    assert.ok(file, entries.map((e) => e.h.name).join(', '));
    assert.deepEqual([file.h.type, file.h.size, file.data], ['reg', 7, 7]);
    assert.ok(file.raw > 512, 'the raw header includes the long-name block');
    assert.equal(entries.find((e) => e.h.name === './link')!.h.linkname, `../${'t'.repeat(140)}`);
  });

  it('gives the same entries whatever the input chunking', async () => {
    const tar = await makeTar('edge');
    const whole = parse(tar).map((e) => [e.h.name, e.h.size, e.data, e.raw]);
    for (const chunk of [1, 511, 513, 7919, 65537]) {
      // Byte by byte only over the headers at the start; the rest has megabytes of payload.
      const input = chunk === 1 ? tar.subarray(0, 4096) : tar;
      const got = parse(input, chunk).map((e) => (chunk === 1 ? e.h.name : [e.h.name, e.h.size, e.data, e.raw]));
      assert.deepEqual(got, chunk === 1 ? whole.slice(0, got.length).map((e) => e[0]) : whole, `chunks of ${chunk}`);
    }
  });

  it('refuses PAX global headers, unknown types and lone zero blocks', () => {
    const global = Buffer.concat([tarHeaderBlock({ name: 'g', size: 0, mode: 0, typeflag: 'g' }), Buffer.alloc(1024)]);
    assertThrowsCode(() => parse(global), { code: 'INVALID_FORMAT', includes: ['test.tar', 'PAX global header at byte 0'] });
    const sparse = Buffer.concat([tarHeaderBlock({ name: 's', size: 0, mode: 0, typeflag: 'S' }), Buffer.alloc(1024)]);
    assertThrowsCode(() => parse(sparse), { code: 'INVALID_FORMAT', includes: ["unsupported tar entry type 'S' at byte 0"] });
    const lone = Buffer.concat([Buffer.alloc(512), tarHeaderBlock({ name: 'x', size: 0, mode: 0, typeflag: '0' })]);
    assertThrowsCode(() => parse(lone), { code: 'INVALID_FORMAT', includes: ['lone zero block'] });
  });

  it('accepts an archive that ends without the end-of-archive blocks, but not one cut inside an entry', async () => {
    const header = tarHeaderBlock({ name: 'f', size: 5, mode: 0o644, typeflag: '0' });
    assert.equal(parse(Buffer.concat([header, Buffer.from('hello'), Buffer.alloc(507)])).length, 1);
    assertThrowsCode(() => parse(Buffer.concat([header, Buffer.from('he')])), { code: 'INVALID_FORMAT', includes: ['truncated inside a file'] });
    assertThrowsCode(() => parse(header.subarray(0, 100)), { code: 'INVALID_FORMAT', includes: ['truncated inside a header'] });
  });
});
