import assert from 'node:assert/strict';
import { readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { tarStream, type TarEntry } from '../../src/core/tar/writer.js';
import { run } from './helpers/proc.js';
import { readAll } from './helpers/streams.js';
import { useTempDirs } from './helpers/tmp.js';

const tempDir = useTempDirs('lazyimg-tar-');
const UTC = { ...process.env, TZ: 'UTC', LC_ALL: 'C' };

const longDir = `very/${'deep-directory-name/'.repeat(6)}`;
const longPath = `${longDir}file-with-a-long-name.txt`;
const longTarget = `../${'x'.repeat(120)}`;

/** `tar -tv` columns we check: mode string, owner, size, name (and link target). */
interface Listed {
  mode: string;
  owner: string;
  size: number;
  name: string;
}

async function list(bytes: Buffer): Promise<Listed[]> {
  const r = await run('tar', ['--numeric-owner', '--quoting-style=literal', '-tvf', '-'], { input: bytes, env: UTC });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'tar warned');
  return r.stdout
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S+) (\S+)\s+(\d+) \d{4}-\d\d-\d\d \d\d:\d\d (.*)$/.exec(line);
      assert.ok(m, `unexpected tar line: ${line}`);
      return { mode: m[1] ?? '', owner: m[2] ?? '', size: Number(m[3]), name: m[4] ?? '' };
    });
}

describe('tarStream', () => {
  const cases: Array<{ name: string; entries: TarEntry[]; want: Listed[] }> = [
    {
      name: 'files, directories and modes',
      entries: [
        { name: 'etc', type: 'directory' },
        { name: 'etc/hosts', type: 'file', content: Buffer.from('127.0.0.1 localhost\n') },
        { name: 'bin', type: 'directory', mode: 0o700 },
        { name: 'bin/run', type: 'file', mode: 0o755, content: Buffer.from('#!/bin/sh\n') },
        { name: 'empty', type: 'file' },
        { name: 'setuid', type: 'file', mode: 0o4755, content: Buffer.alloc(0) },
      ],
      want: [
        { mode: 'drwxr-xr-x', owner: '0/0', size: 0, name: 'etc/' },
        { mode: '-rw-r--r--', owner: '0/0', size: 20, name: 'etc/hosts' },
        { mode: 'drwx------', owner: '0/0', size: 0, name: 'bin/' },
        { mode: '-rwxr-xr-x', owner: '0/0', size: 10, name: 'bin/run' },
        { mode: '-rw-r--r--', owner: '0/0', size: 0, name: 'empty' },
        { mode: '-rwsr-xr-x', owner: '0/0', size: 0, name: 'setuid' },
      ],
    },
    {
      name: 'owners',
      entries: [{ name: 'f', type: 'file', uid: 1000, gid: 100, content: Buffer.from('x') }],
      want: [{ mode: '-rw-r--r--', owner: '1000/100', size: 1, name: 'f' }],
    },
    {
      name: 'symlinks and hard links',
      entries: [
        { name: 'bin/hello', type: 'file', content: Buffer.from('hi') },
        { name: 'bin/hi', type: 'symlink', linkname: 'hello', mode: 0o777 },
        { name: 'bin/abs', type: 'symlink', linkname: '/usr/bin/env', mode: 0o777 },
        { name: 'bin/hard', type: 'hardlink', linkname: 'bin/hello' },
      ],
      want: [
        { mode: '-rw-r--r--', owner: '0/0', size: 2, name: 'bin/hello' },
        { mode: 'lrwxrwxrwx', owner: '0/0', size: 0, name: 'bin/hi -> hello' },
        { mode: 'lrwxrwxrwx', owner: '0/0', size: 0, name: 'bin/abs -> /usr/bin/env' },
        { mode: 'hrw-r--r--', owner: '0/0', size: 0, name: 'bin/hard link to bin/hello' },
      ],
    },
    {
      name: 'a path over 100 bytes (PAX path) and a long link target (PAX linkpath)',
      entries: [
        { name: longPath, type: 'file', content: Buffer.from('deep') },
        { name: 'l', type: 'symlink', linkname: longTarget, mode: 0o777 },
        { name: `${'d'.repeat(120)}`, type: 'directory' },
      ],
      want: [
        { mode: '-rw-r--r--', owner: '0/0', size: 4, name: longPath },
        { mode: 'lrwxrwxrwx', owner: '0/0', size: 0, name: `l -> ${longTarget}` },
        { mode: 'drwxr-xr-x', owner: '0/0', size: 0, name: `${'d'.repeat(120)}/` },
      ],
    },
    {
      name: 'a name of exactly 100 bytes, and a multi-byte UTF-8 name over 100 bytes',
      entries: [
        { name: 'n'.repeat(100), type: 'file', content: Buffer.from('a') },
        { name: `${'é'.repeat(60)}.txt`, type: 'file', content: Buffer.from('b') },
      ],
      want: [
        { mode: '-rw-r--r--', owner: '0/0', size: 1, name: 'n'.repeat(100) },
        { mode: '-rw-r--r--', owner: '0/0', size: 1, name: `${'é'.repeat(60)}.txt` },
      ],
    },
    {
      name: 'streamed content across block boundaries',
      entries: [
        { name: 'big', type: 'file', content: { size: 1500, stream: () => Readable.from([Buffer.alloc(700, 1), Buffer.alloc(800, 2)]) } },
        { name: 'after', type: 'file', content: Buffer.from('z') },
      ],
      want: [
        { mode: '-rw-r--r--', owner: '0/0', size: 1500, name: 'big' },
        { mode: '-rw-r--r--', owner: '0/0', size: 1, name: 'after' },
      ],
    },
    { name: 'no entries', entries: [], want: [] },
  ];
  for (const c of cases) {
    it(`tar lists ${c.name}`, async () => {
      const bytes = await readAll(tarStream(c.entries));
      assert.equal(bytes.length % 512, 0);
      assert.deepEqual(bytes.subarray(-1024), Buffer.alloc(1024));
      assert.deepEqual(await list(bytes), c.want);
    });
  }

  it('is accepted by tar when streamed from an async iterable, and extracts to the same content', async () => {
    const dir = await tempDir();
    async function* entries(): AsyncGenerator<TarEntry> {
      yield { name: 'a', type: 'directory' };
      yield { name: 'a/data.bin', type: 'file', mode: 0o640, mtime: 1_700_000_000, content: { size: 3000, stream: () => Readable.from([Buffer.alloc(3000, 7)]) } };
      yield { name: longPath, type: 'file', content: Buffer.from('long one') };
      yield { name: 'a/link', type: 'symlink', linkname: 'data.bin' };
    }
    const r = await run('tar', ['-xf', '-', '-C', dir], { input: tarStream(entries()), env: UTC });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readFile(join(dir, 'a/data.bin')), Buffer.alloc(3000, 7));
    const info = await stat(join(dir, 'a/data.bin'));
    assert.equal(info.mode & 0o777, 0o640);
    assert.equal(info.mtimeMs, 1_700_000_000_000);
    assert.equal(await readFile(join(dir, longPath), 'utf8'), 'long one');
    assert.equal(await readlink(join(dir, 'a/link')), 'data.bin');
  });

  it('is deterministic', async () => {
    const entries = (): TarEntry[] => [{ name: 'x', type: 'file', content: Buffer.from('same') }, { name: longPath, type: 'file' }];
    assert.deepEqual(await readAll(tarStream(entries())), await readAll(tarStream(entries())));
  });

  // Ids over 0o7777777 (2097151) do not fit the 8-byte octal field: they go in PAX records.
  it('keeps owner ids too large for the ustar field (directory-service uids)', async () => {
    const bytes = await readAll(tarStream([{ name: 'f', type: 'file', uid: 1_200_000_000, gid: 3_000_000, content: Buffer.from('x') }]));
    assert.deepEqual(await list(bytes), [{ mode: '-rw-r--r--', owner: '1200000000/3000000', size: 1, name: 'f' }]);
  });

  const wrongSizes = [
    { name: 'longer than declared', size: 10, chunks: [Buffer.alloc(6), Buffer.alloc(6)], why: 'longer than its declared 10 bytes' },
    { name: 'shorter than declared', size: 10, chunks: [Buffer.alloc(4)], why: 'content is 4 bytes, declared 10' },
  ];
  for (const c of wrongSizes) {
    it(`fails when streamed content is ${c.name}`, async () => {
      const stream = tarStream([{ name: 'bad.bin', type: 'file', content: { size: c.size, stream: () => Readable.from(c.chunks) } }]);
      await assert.rejects(readAll(stream), (e: unknown) => {
        assert.ok(e instanceof Error);
        assert.ok(e.message.includes('bad.bin') && e.message.includes(c.why), e.message);
        return true;
      });
    });
  }
});
