import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { forEachLimit } from '../../src/core/pool.js';

/** Runs forEachLimit over `n` items, each taking `delay(i)` ms, and records what happened. */
async function trace(n: number, limit: number, delay: (i: number) => number, fail: (i: number) => unknown = () => undefined) {
  let inFlight = 0;
  let maxInFlight = 0;
  const started: number[] = [];
  const finished: number[] = [];
  const items = Array.from({ length: n }, (_, i) => `item-${i}`);
  let outcome: { error?: unknown } = {};
  try {
    await forEachLimit(items, limit, async (item, index) => {
      assert.equal(item, `item-${index}`);
      started.push(index);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await sleep(delay(index));
        const error = fail(index);
        if (error !== undefined) throw error;
      } finally {
        inFlight--;
        finished.push(index);
      }
    });
  } catch (error) {
    outcome = { error };
  }
  return { started, finished, maxInFlight, inFlightAtEnd: inFlight, outcome };
}

describe('forEachLimit', () => {
  const cases = [
    { name: 'more items than the limit', n: 20, limit: 4, delay: (i: number) => (i * 7) % 5 },
    { name: 'limit 1 runs one at a time, in order', n: 6, limit: 1, delay: (i: number) => 3 - (i % 3) },
    { name: 'limit above the number of items', n: 3, limit: 10, delay: () => 1 },
    { name: 'equal', n: 5, limit: 5, delay: (i: number) => 5 - i },
    { name: 'no items', n: 0, limit: 3, delay: () => 0 },
  ];
  for (const c of cases) {
    it(`runs every item once and never more than the limit at a time: ${c.name}`, async () => {
      const t = await trace(c.n, c.limit, c.delay);
      assert.deepEqual(t.outcome, {});
      assert.deepEqual([...t.started].sort((a, b) => a - b), Array.from({ length: c.n }, (_, i) => i));
      assert.deepEqual(t.started, Array.from({ length: c.n }, (_, i) => i), 'items start in order');
      assert.equal(t.maxInFlight, Math.min(c.limit, c.n));
      assert.equal(t.inFlightAtEnd, 0);
    });
  }

  it('stops starting items after a failure, lets running ones settle, then rethrows it', async () => {
    const boom = new Error('item 1 failed');
    const t = await trace(10, 2, (i) => (i === 0 ? 40 : 5), (i) => (i === 1 ? boom : undefined));
    assert.equal(t.outcome.error, boom);
    assert.deepEqual(t.started, [0, 1]);
    assert.deepEqual(t.finished, [1, 0], 'item 0 finished before forEachLimit rejected');
    assert.equal(t.inFlightAtEnd, 0);
  });

  it('rethrows the first failure when several items fail', async () => {
    const first = new Error('first');
    const t = await trace(8, 3, (i) => [10, 1, 20][i] ?? 1, (i) => (i === 1 ? first : i === 0 || i === 2 ? new Error(`later ${i}`) : undefined));
    assert.equal(t.outcome.error, first);
    assert.equal(t.inFlightAtEnd, 0);
    assert.ok(t.started.length < 8, `started ${t.started.join(',')}`);
  });

  it('rethrows a thrown value that is not an Error as is', async () => {
    const t = await trace(3, 2, () => 1, (i) => (i === 0 ? 'plain string' : undefined));
    assert.equal(t.outcome.error, 'plain string');
  });

  // A limit below 1 would start no runner and "succeed" without doing any work: it is refused.
  for (const limit of [0, Number.NaN]) {
    it(`does not silently skip every item with limit ${limit}`, async () => {
      const t = await trace(3, limit, () => 0);
      assert.ok(t.outcome.error !== undefined || t.started.length === 3, `resolved after starting ${t.started.length} of 3 items`);
    });
  }
});
