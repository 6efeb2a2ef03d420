// The compression threads: every member comes back as exactly what node:zlib gives for it alone,
// whether it travelled in a batch of small members or on its own, at any level, on any thread.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GzipPool } from '../../../src/core/estargz/gzipPool.js';

const MIB = 1024 * 1024;

describe('GzipPool', () => {
  it('gives each member the bytes node:zlib gives it, for batched, large and empty members', async () => {
    const pool = new GzipPool(2);
    try {
      const text = Buffer.from('lazy images '.repeat(200_000));
      const inputs = [
        Buffer.alloc(0),
        Buffer.from('a small file\n'),
        ...Array.from({ length: 300 }, (_, i) => text.subarray(i * 97, i * 97 + 100 + i * 13)),
        randomBytes(3 * MIB),
        text.subarray(0, 2 * MIB + 7),
        Buffer.from(text.subarray(5, MIB + 5)),
      ];
      const expected = inputs.map((b, i) => gzipSync(b, { level: i % 2 ? 9 : 1 }));
      // Large one-buffer members are moved to the threads, so they get copies here; others come in two parts.
      const outputs = await Promise.all(inputs.map((b, i) => pool.gzip(i % 3 ? [Buffer.from(b)] : [b.subarray(0, 5), b.subarray(5)], i % 2 ? 9 : 1)));
      assert.equal(outputs.length, expected.length);
      outputs.forEach((out, i) => {
        assert.ok(out.equals(expected[i]!), `member ${i} (${inputs[i]!.length} bytes) differs from zlib's`);
        assert.ok(gunzipSync(out).equals(inputs[i]!));
      });
    } finally {
      await pool.close();
    }
  });

  it('gives the same bytes with one thread as with three', async () => {
    const data = Array.from({ length: 50 }, (_, i) => Buffer.from(`file ${i} `.repeat(1000 * (i + 1))));
    const run = async (threads: number): Promise<Buffer> => {
      const pool = new GzipPool(threads);
      try {
        return Buffer.concat(await Promise.all(data.map((b) => pool.gzip([Buffer.from(b)], 9))));
      } finally {
        await pool.close();
      }
    };
    assert.ok((await run(1)).equals(await run(3)));
  });

  it('rejects compressions still waiting, and new ones, once closed', async () => {
    const pool = new GzipPool(1);
    const waiting = assert.rejects(pool.gzip([Buffer.from('never sent')], 9), /compression threads were stopped/);
    await pool.close();
    await waiting;
    await assert.rejects(pool.gzip([Buffer.from('too late')], 9), /compression threads were stopped/);
  });
});
