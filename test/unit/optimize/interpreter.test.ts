import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { interpreterOf } from '../../../src/core/optimize/interpreter.js';
import { run } from '../helpers/proc.js';
import { useTempDirs } from '../helpers/tmp.js';

const tempDir = useTempDirs('lazyimg-interp-');

/** What binutils' readelf says the loader is: the oracle. */
async function readelfInterpreter(file: string): Promise<string | undefined> {
  const r = await run('readelf', ['-l', '-W', file]);
  return /\[Requesting program interpreter: ([^\]]+)\]/.exec(r.stdout.toString())?.[1];
}

/** A minimal 32-bit big-endian ELF: header, one PT_INTERP program header, the path. */
function elf32be(interp: string): Buffer {
  const path = Buffer.from(`${interp}\0`);
  const header = Buffer.alloc(52);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 2, 1]).copy(header);
  header.writeUInt16BE(2, 16); // ET_EXEC
  header.writeUInt16BE(8, 18); // MIPS
  header.writeUInt32BE(1, 20);
  header.writeUInt32BE(52, 28); // e_phoff
  header.writeUInt16BE(52, 40); // e_ehsize
  header.writeUInt16BE(32, 42); // e_phentsize
  header.writeUInt16BE(1, 44); // e_phnum
  const ph = Buffer.alloc(32);
  ph.writeUInt32BE(3, 0); // PT_INTERP
  ph.writeUInt32BE(84, 4); // p_offset
  ph.writeUInt32BE(path.length, 16); // p_filesz
  ph.writeUInt32BE(path.length, 20);
  return Buffer.concat([header, ph, path]);
}

describe('interpreterOf', () => {
  it('reads a dynamically linked program\'s loader as readelf does', async () => {
    const want = await readelfInterpreter('/bin/sh');
    assert.ok(want, 'readelf names a loader for /bin/sh');
    assert.deepEqual(await interpreterOf('/bin/sh'), { kind: 'elf', path: want });
  });

  it('finds none in a static program', async () => {
    assert.equal(await readelfInterpreter('/sbin/ldconfig'), undefined);
    assert.equal(await interpreterOf('/sbin/ldconfig'), undefined);
  });

  it('reads 32-bit big-endian headers', async () => {
    const file = join(await tempDir(), 'mips');
    await writeFile(file, elf32be('/lib/ld.so.1'));
    assert.equal(await readelfInterpreter(file), '/lib/ld.so.1');
    assert.deepEqual(await interpreterOf(file), { kind: 'elf', path: '/lib/ld.so.1' });
  });

  const scripts: Array<[string, string, string | undefined]> = [
    ['a path', '#!/bin/sh\necho\n', '/bin/sh'],
    ['an argument and spaces', '#!  /usr/bin/env python3 -u\n', '/usr/bin/env'],
    ['no line break', '#!/bin/bash', '/bin/bash'],
    ['nothing after #!', '#!\n', undefined],
    ['no #!', 'echo hi\n', undefined],
    ['an empty file', '', undefined],
  ];
  for (const [name, body, want] of scripts) {
    it(`reads a script's #! line: ${name}`, async () => {
      const file = join(await tempDir(), 'script');
      await writeFile(file, body);
      assert.deepEqual(await interpreterOf(file), want === undefined ? undefined : { kind: 'script', path: want });
    });
  }
});
