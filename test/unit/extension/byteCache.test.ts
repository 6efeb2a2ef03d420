// The browsed images' file cache: most recently used kept, total under the cap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteCache } from '../../../src/extension/browse/ByteCache.js';

const bytes = (n: number): Uint8Array => new Uint8Array(n);

describe('ByteCache', () => {
  it('drops the least recently used once the total passes the cap', () => {
    const cache = new ByteCache(10);
    cache.set('a', bytes(4));
    cache.set('b', bytes(4));
    assert.ok(cache.get('a'), 'a is now the most recently used');
    cache.set('c', bytes(4));
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('a') && cache.get('c'));
  });

  it('keeps nothing larger than the cap, and replaces a key in place', () => {
    const cache = new ByteCache(10);
    cache.set('big', bytes(11));
    assert.equal(cache.get('big'), undefined);
    cache.set('a', bytes(6));
    cache.set('a', bytes(8));
    cache.set('b', bytes(2));
    assert.equal(cache.get('a')?.length, 8);
    assert.equal(cache.get('b')?.length, 2);
  });
});
