// A compression thread of the GzipPool: gzips each slice of a batch with node:zlib, in one go.
import { parentPort } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import type { GzipBatch, GzipResult } from './gzipPool.js';

parentPort!.on('message', ({ id, level, data, lengths }: GzipBatch) => {
  try {
    const input = Buffer.from(data);
    const outputs: Buffer[] = [];
    let at = 0;
    for (const length of lengths) {
      outputs.push(gzipSync(input.subarray(at, at + length), { level }));
      at += length;
    }
    const out = Buffer.allocUnsafeSlow(outputs.reduce((n, b) => n + b.length, 0));
    let to = 0;
    for (const b of outputs) to += b.copy(out, to);
    const result: GzipResult = { id, data: out.buffer, lengths: outputs.map((b) => b.length) };
    parentPort!.postMessage(result, [out.buffer]);
  } catch (e) {
    const result: GzipResult = { id, error: (e as Error).message };
    parentPort!.postMessage(result);
  }
});
