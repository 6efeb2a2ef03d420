// Assertions on the core's errors: callers branch on `code`, so tests check it first, then the
// parts of the message a person needs (the input, the path, the helper name...).
import assert from 'node:assert/strict';

export interface ErrorExpectation {
  code: string;
  /** Substrings the message must contain. */
  includes?: readonly string[];
  /** Substrings the message must never contain (secrets, for instance). */
  excludes?: readonly string[];
  /** Extra checks on the error object. */
  check?: (e: Error & Record<string, unknown>) => void;
}

/** A validation function for `assert.throws` / `assert.rejects`. */
export function errorMatching(expected: ErrorExpectation): (e: unknown) => true {
  return (e: unknown) => {
    assert.ok(e instanceof Error, `expected an Error, got ${String(e)}`);
    const err = e as Error & Record<string, unknown>;
    assert.equal(err.code, expected.code, `error code (message: ${err.message})`);
    for (const s of expected.includes ?? []) assert.ok(err.message.includes(s), `message ${JSON.stringify(err.message)} should contain ${JSON.stringify(s)}`);
    for (const s of expected.excludes ?? []) assert.ok(!err.message.includes(s), `message ${JSON.stringify(err.message)} must not contain ${JSON.stringify(s)}`);
    expected.check?.(err);
    return true;
  };
}

export function assertThrowsCode(fn: () => unknown, expected: ErrorExpectation): void {
  assert.throws(fn, errorMatching(expected));
}

export async function assertRejectsCode(promise: Promise<unknown> | (() => Promise<unknown>), expected: ErrorExpectation): Promise<void> {
  await assert.rejects(promise, errorMatching(expected));
}
