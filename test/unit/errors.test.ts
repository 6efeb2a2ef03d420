import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazyImageError, RegistryError, classifyStatus, describeError, type ErrorCode, type RegistryDiagnostic } from '../../src/core/errors.js';

const diag = (...codes: string[]): RegistryDiagnostic[] => codes.map((code) => ({ code, message: `${code} message` }));

describe('classifyStatus', () => {
  const cases: Array<{ name: string; status: number; diagnostics?: RegistryDiagnostic[]; code: ErrorCode; temporary: boolean }> = [
    { name: '401', status: 401, code: 'UNAUTHORIZED', temporary: false },
    { name: '403', status: 403, code: 'DENIED', temporary: false },
    { name: '404', status: 404, code: 'NOT_FOUND', temporary: false },
    { name: '405', status: 405, code: 'UNSUPPORTED', temporary: false },
    { name: '408', status: 408, code: 'REGISTRY', temporary: true },
    { name: '429', status: 429, code: 'RATE_LIMITED', temporary: true },
    { name: '500', status: 500, code: 'REGISTRY', temporary: true },
    { name: '501 (never works)', status: 501, code: 'REGISTRY', temporary: false },
    { name: '502', status: 502, code: 'REGISTRY', temporary: true },
    { name: '503', status: 503, code: 'REGISTRY', temporary: true },
    { name: '504', status: 504, code: 'REGISTRY', temporary: true },
    { name: '505 (never works)', status: 505, code: 'REGISTRY', temporary: false },
    { name: '599', status: 599, code: 'REGISTRY', temporary: true },
    { name: '400 without diagnostics', status: 400, code: 'REGISTRY', temporary: false },
    { name: '409 without diagnostics', status: 409, code: 'REGISTRY', temporary: false },
    { name: '400 DIGEST_INVALID', status: 400, diagnostics: diag('DIGEST_INVALID'), code: 'DIGEST_MISMATCH', temporary: false },
    { name: '400 MANIFEST_INVALID', status: 400, diagnostics: diag('MANIFEST_INVALID'), code: 'INVALID_FORMAT', temporary: false },
    { name: '400 SIZE_INVALID', status: 400, diagnostics: diag('SIZE_INVALID'), code: 'INVALID_FORMAT', temporary: false },
    { name: '400 NAME_INVALID', status: 400, diagnostics: diag('NAME_INVALID'), code: 'INVALID_FORMAT', temporary: false },
    { name: '400 BLOB_UPLOAD_INVALID', status: 400, diagnostics: diag('BLOB_UPLOAD_INVALID'), code: 'INVALID_FORMAT', temporary: false },
    { name: 'DIGEST_INVALID wins over another _INVALID', status: 400, diagnostics: diag('MANIFEST_INVALID', 'DIGEST_INVALID'), code: 'DIGEST_MISMATCH', temporary: false },
    { name: '400 unknown diagnostic', status: 400, diagnostics: diag('SOMETHING_ELSE'), code: 'REGISTRY', temporary: false },
    { name: 'TOOMANYREQUESTS with 403', status: 403, diagnostics: diag('TOOMANYREQUESTS'), code: 'RATE_LIMITED', temporary: true },
    { name: 'TOOMANYREQUESTS with 200', status: 200, diagnostics: diag('TOOMANYREQUESTS'), code: 'RATE_LIMITED', temporary: true },
    { name: 'lowercase toomanyrequests', status: 400, diagnostics: diag('toomanyrequests'), code: 'RATE_LIMITED', temporary: true },
    { name: 'MANIFEST_UNKNOWN with 400', status: 400, diagnostics: diag('MANIFEST_UNKNOWN'), code: 'NOT_FOUND', temporary: false },
    { name: 'MANIFEST_UNKNOWN with 500', status: 500, diagnostics: diag('MANIFEST_UNKNOWN'), code: 'NOT_FOUND', temporary: false },
    { name: 'BLOB_UNKNOWN with 400', status: 400, diagnostics: diag('BLOB_UNKNOWN'), code: 'NOT_FOUND', temporary: false },
    { name: 'NAME_UNKNOWN with 400', status: 400, diagnostics: diag('NAME_UNKNOWN'), code: 'NOT_FOUND', temporary: false },
    { name: 'UNAUTHORIZED with 400', status: 400, diagnostics: diag('UNAUTHORIZED'), code: 'UNAUTHORIZED', temporary: false },
    { name: 'DENIED with 404', status: 404, diagnostics: diag('DENIED'), code: 'DENIED', temporary: false },
    { name: 'UNSUPPORTED with 400', status: 400, diagnostics: diag('UNSUPPORTED'), code: 'UNSUPPORTED', temporary: false },
    { name: '429 wins over NOT_FOUND diagnostics', status: 429, diagnostics: diag('MANIFEST_UNKNOWN'), code: 'RATE_LIMITED', temporary: true },
    { name: '503 with DIGEST_INVALID stays temporary', status: 503, diagnostics: diag('DIGEST_INVALID'), code: 'REGISTRY', temporary: true },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(classifyStatus(c.status, c.diagnostics), { code: c.code, temporary: c.temporary }));
  }
});

describe('describeError', () => {
  const chain = (...messages: string[]): Error => {
    let e: Error | undefined;
    for (const m of [...messages].reverse()) e = new Error(m, e === undefined ? undefined : { cause: e });
    return e as Error;
  };
  const cases: Array<{ name: string; error: unknown; want: string }> = [
    { name: 'a plain error', error: new Error('boom'), want: 'boom' },
    { name: 'a string', error: 'just text', want: 'just text' },
    { name: 'undefined', error: undefined, want: 'undefined' },
    { name: 'a cause that adds something', error: chain('Cannot copy x', 'connect ECONNREFUSED'), want: 'Cannot copy x: connect ECONNREFUSED' },
    { name: 'a chain of causes', error: chain('a', 'b', 'c'), want: 'a: b: c' },
    { name: 'a cause already in the message', error: chain('Cannot reach r.io: ECONNRESET', 'ECONNRESET'), want: 'Cannot reach r.io: ECONNRESET' },
    { name: 'a cause that is not an Error stops the chain', error: new Error('top', { cause: 'a string cause' }), want: 'top' },
    {
      name: 'the core errors and their causes',
      error: new RegistryError('UNREACHABLE', 'Cannot reach https://r.io', { cause: new LazyImageError('IO', 'socket hang up') }),
      want: 'Cannot reach https://r.io: socket hang up',
    },
    {
      name: 'a foreign cause under our own error, which already said what it meant',
      error: new RegistryError('UNREACHABLE', 'Cannot reach http://127.0.0.1:1: connection refused', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') }),
      want: 'Cannot reach http://127.0.0.1:1: connection refused',
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(describeError(c.error), c.want));
});

describe('LazyImageError', () => {
  it('keeps code, ref, temporary and cause', () => {
    const cause = new Error('inner');
    const e = new RegistryError('RATE_LIMITED', 'slow down', { ref: 'ghcr.io/a', temporary: true, cause, status: 429, diagnostics: diag('TOOMANYREQUESTS') });
    assert.ok(e instanceof LazyImageError);
    assert.deepEqual(
      { name: e.name, code: e.code, ref: e.ref, temporary: e.temporary, cause: e.cause, status: e.status, diagnostics: e.diagnostics.map((d) => d.code) },
      { name: 'RegistryError', code: 'RATE_LIMITED', ref: 'ghcr.io/a', temporary: true, cause, status: 429, diagnostics: ['TOOMANYREQUESTS'] },
    );
  });
  it('is not temporary and has no cause by default', () => {
    const e = new LazyImageError('IO', 'x');
    assert.equal(e.temporary, false);
    assert.equal('cause' in e, false);
  });
});
