import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { FormatError } from '../../src/core/errors.js';
import { VerifyingStream, isDigest, parseDigest, sha256, verifyBytes, type ExpectedContent } from '../../src/core/oci/digest.js';
import { assertRejectsCode, assertThrowsCode } from './helpers/errors.js';
import { endless, readAll, streamOf } from './helpers/streams.js';

const hex = (algorithm: 'sha256' | 'sha512', data: string): string => createHash(algorithm).update(data).digest('hex');

describe('parseDigest', () => {
  const valid = [
    { name: 'sha256', value: `sha256:${hex('sha256', 'x')}`, want: { algorithm: 'sha256', hex: hex('sha256', 'x') } },
    { name: 'sha512', value: `sha512:${hex('sha512', 'x')}`, want: { algorithm: 'sha512', hex: hex('sha512', 'x') } },
  ];
  for (const c of valid) {
    it(`accepts ${c.name}`, () => {
      assert.deepEqual(parseDigest(c.value), c.want);
      assert.equal(isDigest(c.value), true);
    });
  }

  const invalid = [
    { name: 'sha256 too short', value: `sha256:${'a'.repeat(63)}`, why: '64 lowercase hex' },
    { name: 'sha256 too long', value: `sha256:${'a'.repeat(65)}`, why: '64 lowercase hex' },
    { name: 'sha256 with a sha512 length', value: `sha256:${'a'.repeat(128)}`, why: '64 lowercase hex' },
    { name: 'sha512 too short', value: `sha512:${'a'.repeat(64)}`, why: '128 lowercase hex' },
    { name: 'uppercase hex', value: `sha256:${'A'.repeat(64)}`, why: 'lowercase' },
    { name: 'non-hex characters', value: `sha256:${'g'.repeat(64)}`, why: 'hex' },
    { name: 'unknown algorithm', value: `md5:${'a'.repeat(32)}`, why: 'expected sha256' },
    { name: 'uppercase algorithm', value: `SHA256:${'a'.repeat(64)}`, why: 'expected sha256' },
    { name: 'no algorithm', value: 'a'.repeat(64), why: 'expected sha256' },
    { name: 'empty', value: '', why: 'expected sha256' },
    { name: 'empty hex', value: 'sha256:', why: 'expected sha256' },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}`, () => {
      assertThrowsCode(() => parseDigest(c.value, 'layer digest'), { code: 'INVALID_FORMAT', includes: ['Invalid layer digest', c.why] });
      assert.equal(isDigest(c.value), false);
    });
  }

  it('shortens a very long input in the message', () => {
    const value = `sha256:${'a'.repeat(1000)}`;
    assertThrowsCode(() => parseDigest(value), { code: 'INVALID_FORMAT', includes: ['...'], excludes: [value] });
  });
});

describe('verifyBytes', () => {
  const data = Buffer.from('hello, world');
  const ok: Array<{ name: string; expected: ExpectedContent }> = [
    { name: 'sha256 with size', expected: { digest: sha256(data), size: data.length } },
    { name: 'sha256 without size', expected: { digest: sha256(data) } },
    { name: 'sha512', expected: { digest: `sha512:${hex('sha512', 'hello, world')}`, size: data.length } },
  ];
  for (const c of ok) it(`accepts ${c.name}`, () => verifyBytes(data, c.expected, 'blob x'));

  const bad: Array<{ name: string; expected: ExpectedContent; code: string; why: string }> = [
    { name: 'another digest', expected: { digest: sha256('other') }, code: 'DIGEST_MISMATCH', why: `content has digest ${sha256(data)}` },
    { name: 'another size', expected: { digest: sha256(data), size: 3 }, code: 'DIGEST_MISMATCH', why: '12 bytes instead of 3' },
    { name: 'an invalid expected digest', expected: { digest: 'sha256:zz' }, code: 'INVALID_FORMAT', why: 'sha256:zz' },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => assertThrowsCode(() => verifyBytes(data, c.expected, 'blob x'), { code: c.code, includes: [c.why] }));
  }

  it('throws a FormatError that carries the expected digest', () => {
    const expected = sha256('other');
    assert.throws(() => verifyBytes(data, { digest: expected }, 'blob x'), (e: unknown) => e instanceof FormatError && e.digest === expected && e.format === 'blob');
  });
});

describe('VerifyingStream', () => {
  const data = Buffer.from('0123456789abcdef');
  const chunks = [data.subarray(0, 5), data.subarray(5, 11), data.subarray(11)];

  const ok: Array<{ name: string; expected: ExpectedContent }> = [
    { name: 'digest and size', expected: { digest: sha256(data), size: data.length } },
    { name: 'digest only', expected: { digest: sha256(data) } },
    { name: 'sha512', expected: { digest: `sha512:${hex('sha512', data.toString())}`, size: data.length } },
  ];
  for (const c of ok) {
    it(`passes the bytes through when they match: ${c.name}`, async () => {
      const out = await readAll(streamOf(...chunks).pipe(new VerifyingStream(c.expected, 'blob x')));
      assert.deepEqual(out, data);
    });
  }

  it('passes an empty blob', async () => {
    const out = await readAll(streamOf().pipe(new VerifyingStream({ digest: sha256(''), size: 0 }, 'empty')));
    assert.equal(out.length, 0);
  });

  const bad: Array<{ name: string; expected: ExpectedContent; why: string }> = [
    { name: 'wrong digest', expected: { digest: sha256('other'), size: data.length }, why: `content has digest ${sha256(data)}` },
    { name: 'wrong digest, no size', expected: { digest: sha256('other') }, why: `content has digest ${sha256(data)}` },
    { name: 'too few bytes', expected: { digest: sha256(data), size: data.length + 4 }, why: '16 bytes instead of 20' },
    { name: 'too many bytes', expected: { digest: sha256(data), size: 10 }, why: 'more than the expected 10 bytes' },
  ];
  for (const c of bad) {
    it(`fails with DIGEST_MISMATCH on ${c.name}`, async () => {
      const sink = new PassThrough();
      sink.resume();
      await assertRejectsCode(pipeline(streamOf(...chunks), new VerifyingStream(c.expected, 'blob x'), sink), {
        code: 'DIGEST_MISMATCH',
        includes: ['blob x', c.why, c.expected.digest],
      });
    });
  }

  it('fails as soon as more bytes than expected arrive, without reading the rest', async () => {
    const source = endless(Buffer.alloc(1024, 1));
    let passed = 0;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        passed += chunk.length;
        done();
      },
    });
    await assertRejectsCode(pipeline(source.stream, new VerifyingStream({ digest: sha256('x'), size: 4096 }, 'blob y'), sink), {
      code: 'DIGEST_MISMATCH',
      includes: ['more than the expected 4096 bytes'],
    });
    assert.ok(passed <= 4096, `${passed} bytes went through`);
    assert.ok(source.pulled() < 64, `${source.pulled()} chunks were read`);
  });

  it('rejects an invalid expected digest at construction', () => {
    assertThrowsCode(() => new VerifyingStream({ digest: 'md5:00' }, 'x'), { code: 'INVALID_FORMAT' });
  });
});
