// zTOCs built on a worker thread: the same bytes as on the main thread, and a corrupt layer's
// error comes back across the thread with its code, what and where.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildZtoc } from '../../helpers/ztoc.js';
import { ZtocThreads, type ThreadBuiltZtoc, type ZtocThreadOptions } from '../../../src/core/soci/ztocThread.js';
import { makeTar } from '../estargz/helpers.js';

/** The bytes in pieces of `size`, as a stream. */
function pieces(bytes: Buffer, size: number): Readable {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return Readable.from(out);
}

/** One layer on a pool of its own, closed after. */
async function buildZtocOnThread(source: Readable, compression: 'gzip' | 'none', where: string, options: ZtocThreadOptions = {}): Promise<ThreadBuiltZtoc> {
  const threads = new ZtocThreads();
  try {
    return await threads.build(source, compression, where, options);
  } finally {
    await threads.close();
  }
}

describe('zTOC thread', () => {
  it('builds the zTOC the main thread builds, for gzip and plain tar layers', async () => {
    const tar = (await makeTar('big', '3'))!;
    for (const [compression, blob] of [['gzip', gzipSync(tar, { level: 6 })], ['none', tar]] as const) {
      const here = await buildZtoc(pieces(blob, 70_000), compression, 'here', { spanSize: 256 * 1024 });
      let read = 0;
      const there = await buildZtocOnThread(pieces(blob, 33_333), compression, 'there', { spanSize: 256 * 1024, onRead: (n) => (read = n) });
      assert.ok(there.bytes.equals(here.bytes), compression);
      assert.equal(there.digest, here.digest);
      assert.equal(there.spans, here.ztoc.maxSpanId + 1);
      assert.equal(there.files, here.ztoc.entries.length);
      assert.equal(read, blob.length);
    }
  });

  it('brings a corrupt layer\'s error back with its code and where', async () => {
    const gz = gzipSync((await makeTar('edge'))!);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xee, 100, 140);
    await assert.rejects(buildZtocOnThread(pieces(corrupt, 4096), 'gzip', 'layer 3/3 (sha256:x)'), { code: 'INVALID_FORMAT', message: /^layer 3\/3 \(sha256:x\): the gzip data is corrupt at compressed byte \d+/ });
    await assert.rejects(buildZtocOnThread(pieces(gz.subarray(0, gz.length - 50), 4096), 'gzip', 'layer 1'), { code: 'INVALID_FORMAT', message: /layer 1: the gzip data ends early/ });
  });

  it('keeps its threads for the next layers, and replaces one that failed', async () => {
    const gz = gzipSync((await makeTar('big', '2'))!);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xee, 100, 140);
    const expected = await buildZtoc(pieces(gz, 50_000), 'gzip', 'here', { spanSize: 128 * 1024 });
    const threads = new ZtocThreads();
    try {
      for (const blob of [gz, corrupt, gz, gz]) {
        const built = threads.build(pieces(blob, 40_000), 'gzip', 'layer', { spanSize: 128 * 1024, owned: true });
        if (blob === corrupt) await assert.rejects(built, { code: 'INVALID_FORMAT' });
        else assert.equal((await built).digest, expected.digest);
      }
    } finally {
      await threads.close();
    }
  });
});
