// The worker's frame reader on hostile byte streams: every valid frame gets through whatever the
// chunking, bad frames are answered, and reading always resynchronises.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { FrameReader } from '../../src/worker/frameReader.js';

interface Rejection {
  id: string | number | null;
  code: number;
}

function frame(body: string): Buffer {
  return Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);
}

function message(id: number): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'ping', params: { text: `ünïcode ${id}` } });
}

/** Feeds `bytes` in chunks of the given sizes; returns delivered ids and rejections. */
async function read(bytes: Buffer, chunkSizes: (i: number) => number = () => bytes.length): Promise<{ ids: unknown[]; rejections: Rejection[] }> {
  const input = new PassThrough();
  const rejections: Rejection[] = [];
  const ids: unknown[] = [];
  const reader = new FrameReader(input, (id, code) => rejections.push({ id, code }), new Set(['lazyimg/copy']));
  const closed = new Promise<void>((resolve) => reader.onClose(() => resolve()));
  reader.listen((m) => ids.push((m as { id?: unknown }).id));
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = Math.max(1, chunkSizes(i));
    input.write(bytes.subarray(offset, offset + size));
    offset += size;
  }
  input.end();
  await closed;
  return { ids, rejections };
}

describe('FrameReader', () => {
  it('delivers every frame whatever the chunk boundaries, multi-byte characters included', async () => {
    const bytes = Buffer.concat([1, 2, 3, 4, 5].map((id) => frame(message(id))));
    for (const size of [1, 2, 3, 7, 64, bytes.length]) {
      const { ids, rejections } = await read(bytes, () => size);
      assert.deepEqual(ids, [1, 2, 3, 4, 5], `chunks of ${size}`);
      assert.deepEqual(rejections, []);
    }
  });

  const cases: Array<{ name: string; bad: string | Buffer; code: number; id?: number | null }> = [
    { name: 'a body that is not JSON', bad: frame('{not json}'), code: -32700, id: null },
    { name: 'a header without Content-Length', bad: 'Content-Type: application/json\r\n\r\n{}', code: -32700, id: null },
    { name: 'a Content-Length that is not a number', bad: 'Content-Length: ten\r\n\r\n', code: -32700, id: null },
    { name: 'a header line without a colon', bad: 'hello there\r\n\r\n', code: -32700, id: null },
    { name: 'an absurd Content-Length', bad: 'Content-Length: 999999999999\r\n\r\n', code: -32700, id: null },
    { name: 'a batch', bad: frame('[{"jsonrpc":"2.0","id":9,"method":"x"}]'), code: -32600, id: null },
    { name: 'a JSON string', bad: frame('"hello"'), code: -32600, id: null },
    { name: 'a missing jsonrpc version', bad: frame('{"id":9,"method":"x"}'), code: -32600, id: 9 },
    { name: 'a numeric method', bad: frame('{"jsonrpc":"2.0","id":9,"method":42}'), code: -32600, id: 9 },
    { name: 'params that are a string', bad: frame('{"jsonrpc":"2.0","id":9,"method":"x","params":"p"}'), code: -32602, id: 9 },
    { name: 'params by position', bad: frame('{"jsonrpc":"2.0","id":9,"method":"x","params":[{"a":1}]}'), code: -32602, id: 9 },
    { name: 'a request without the params its method needs', bad: frame('{"jsonrpc":"2.0","id":9,"method":"lazyimg/copy"}'), code: -32602, id: 9 },
    { name: 'a null id', bad: frame('{"jsonrpc":"2.0","id":null,"method":"x"}'), code: -32600, id: null },
    { name: 'an object id', bad: frame('{"jsonrpc":"2.0","id":{},"method":"x"}'), code: -32600, id: null },
  ];
  for (const c of cases) {
    it(`answers ${c.name} and keeps reading`, async () => {
      const bytes = Buffer.concat([frame(message(1)), Buffer.from(c.bad), frame(message(2))]);
      const { ids, rejections } = await read(bytes, (i) => 5 + (i % 11));
      assert.deepEqual(ids, [1, 2]);
      assert.ok(rejections.length >= 1);
      assert.deepEqual(rejections[0], { id: c.id ?? null, code: c.code });
    });
  }

  it('drops a cancellation that names no request, without an answer (it is a notification)', async () => {
    const bytes = Buffer.concat([frame('{"jsonrpc":"2.0","method":"$/cancelRequest"}'), frame('{"jsonrpc":"2.0","method":"$/cancelRequest","params":[]}'), frame(message(3))]);
    const { ids, rejections } = await read(bytes);
    assert.deepEqual(ids, [3]);
    assert.deepEqual(rejections, []);
  });

  it('gives back the next frame that a body cut short swallowed', async () => {
    // Content-Length says 20 but the body is 11 bytes: the reader eats the next header's start.
    const bytes = Buffer.concat([Buffer.from('Content-Length: 20\r\n\r\n{"jsonrpc":'), frame(message(7)), frame(message(8))]);
    const { ids, rejections } = await read(bytes);
    assert.deepEqual(rejections.map((r) => r.code), [-32700, -32700]);
    assert.deepEqual(ids, [8]);
  });

  it('survives random garbage between frames without hanging, and finds the frames after it', async () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 50; round++) {
      const garbage = Buffer.from(Array.from({ length: 1 + (random() % 300) }, () => random() % 256));
      const bytes = Buffer.concat([frame(message(1)), garbage, Buffer.from('\r\n\r\n'), frame(message(2)), frame(message(3))]);
      const started = Date.now();
      const { ids } = await read(bytes, () => 1 + (random() % 40));
      // A bound on a hang, not a measure of speed: far above the milliseconds it takes.
      assert.ok(Date.now() - started < 10_000, 'reading took too long');
      assert.ok(ids.includes(3), `round ${round}: the last frame was lost (${JSON.stringify(ids)})`);
    }
  });
});
