// The zTOC flatbuffer: what we write reads back field for field, and a hostile buffer gets a clear
// error rather than a crash or a runaway allocation. Byte equality with soci's own output is in
// test/integration/soci.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goTimeText } from '../../../src/core/soci/build.js';
import { decodeTarZinfo, decodeZtoc, encodeTarZinfo, encodeZtoc, type Ztoc } from '../../../src/core/soci/ztoc.js';

function sample(): Ztoc {
  return {
    version: '0.9', buildToolIdentifier: 'AWS SOCI CLI v0.2', compressedArchiveSize: 12_345_678_901, uncompressedArchiveSize: 23_456_789_012,
    entries: [
      { name: 'etc/', type: 'dir', uncompressedOffset: 512, uncompressedSize: 0, linkname: '', mode: 0o755, uid: 0, gid: 0, uname: 'root', gname: 'root', modTime: '2024-01-02T03:04:05Z', devmajor: 0, devminor: 0, pax: new Map() },
      {
        name: 'caf\u00e9/\u{1f600}', type: 'reg', uncompressedOffset: 2048, uncompressedSize: 5, linkname: '', mode: 0o100644, uid: 4_000_000_000, gid: 7, uname: '', gname: 'g', modTime: '2024-01-02T03:04:05.5Z', devmajor: 0, devminor: 0,
        pax: new Map([['path', Buffer.from('caf\u00e9/\u{1f600}')], ['SCHILY.xattr.user.bin', Buffer.from([0, 0xff, 0x80])], ['mtime', Buffer.from('1704164645.5')]]),
      },
      { name: 'dev/null', type: 'char', uncompressedOffset: 3072, uncompressedSize: 0, linkname: '', mode: 0o666, uid: 0, gid: 0, uname: '', gname: '', modTime: '1970-01-01T00:00:00Z', devmajor: 1, devminor: 3, pax: new Map() },
      { name: 'l', type: 'hardlink', uncompressedOffset: 3584, uncompressedSize: 0, linkname: 'caf\u00e9/\u{1f600}', mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', modTime: '', devmajor: 0, devminor: 0, pax: new Map() },
    ],
    compressionAlgorithm: 'gzip', maxSpanId: 1, spanDigests: [`sha256:${'a'.repeat(64)}`, `sha256:${'b'.repeat(64)}`], checkpoints: Buffer.from('checkpoint bytes'),
  };
}

describe('zTOC flatbuffer', () => {
  it('reads back what it writes, field for field, PAX records sorted by bytes', () => {
    const z = sample();
    const back = decodeZtoc(encodeZtoc(z), 'test');
    assert.deepEqual(back, { ...z, entries: z.entries.map((e) => ({ ...e, pax: new Map([...e.pax].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) })) });
    assert.deepEqual([...back.entries[1]!.pax.keys()], ['SCHILY.xattr.user.bin', 'mtime', 'path']);
  });

  it('writes the uncompressed algorithm and reads a missing one as gzip, the schema default', () => {
    const z = { ...sample(), compressionAlgorithm: 'uncompressed' as const };
    assert.equal(decodeZtoc(encodeZtoc(z), 't').compressionAlgorithm, 'uncompressed');
    assert.equal(decodeZtoc(encodeZtoc(sample()), 't').compressionAlgorithm, 'gzip');
  });

  it('round-trips the TarZinfo of a plain tar layer', () => {
    const bytes = encodeTarZinfo({ version: 2, spanSize: 4194304, size: 10_000_000_000 });
    assert.deepEqual(decodeTarZinfo(bytes, 't'), { version: 2, spanSize: 4194304, size: 10_000_000_000 });
  });

  it('refuses truncated buffers and offsets that point outside, with where it happened', () => {
    const bytes = encodeZtoc(sample());
    for (const cut of [0, 3, 40, bytes.length >> 1, bytes.length - 4]) {
      assert.throws(() => decodeZtoc(bytes.subarray(0, cut), 'layer 2 zTOC'), /layer 2 zTOC: the zTOC (points to .* outside its \d+ bytes|has no)/, `cut at ${cut}`);
    }
    const wild = Buffer.from(bytes);
    wild.writeUInt32LE(0x7ffffff0, 0);
    assert.throws(() => decodeZtoc(wild, 'z'), /z: the zTOC points to a table or string at byte \d+ \(4 bytes\), outside its/);
  });

  it('refuses a vector whose length runs past the end without allocating it', () => {
    const bytes = encodeZtoc(sample());
    // The span digests vector: find its length (2) followed by the first string offset, and make it huge.
    const z = decodeZtoc(bytes, 't');
    assert.equal(z.spanDigests.length, 2);
    let patched = 0;
    for (let at = 0; at + 4 <= bytes.length; at += 4) {
      if (bytes.readUInt32LE(at) !== 2) continue;
      const copy = Buffer.from(bytes);
      copy.writeUInt32LE(0x3fffffff, at);
      try {
        const d = decodeZtoc(copy, 'z');
        assert.ok(d.spanDigests.length < 1000);
      } catch (e) {
        assert.match((e as Error).message, /^z: the zTOC /);
        patched++;
      }
    }
    assert.ok(patched > 0);
  });

  it('refuses an unknown compression algorithm', () => {
    const z = sample();
    const bytes = encodeZtoc({ ...z, compressionAlgorithm: 'uncompressed' });
    const at = bytes.indexOf(Buffer.from([2]), 0);
    assert.ok(at >= 0);
    let refused = false;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== 2) continue;
      const copy = Buffer.from(bytes);
      copy[i] = 9;
      try {
        if (decodeZtoc(copy, 'z').compressionAlgorithm) continue;
      } catch (e) {
        if (/names compression algorithm 9/.test((e as Error).message)) refused = true;
      }
    }
    assert.ok(refused);
  });
});

describe('Go time text', () => {
  it('writes RFC 3339 in UTC with the fraction trimmed, as time.MarshalText does', () => {
    assert.equal(goTimeText(0, 0), '1970-01-01T00:00:00Z');
    assert.equal(goTimeText(1704164645, 500_000_000), '2024-01-02T03:04:05.5Z');
    assert.equal(goTimeText(1704164645, 123), '2024-01-02T03:04:05.000000123Z');
    assert.equal(goTimeText(-1, 0), '1969-12-31T23:59:59Z');
    assert.equal(goTimeText(253402300800, 0), '', 'year 10000 is outside what Go writes');
  });
});
