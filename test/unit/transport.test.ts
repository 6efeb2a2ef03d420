// Only the pure parts of the transport; the HTTP behaviour is covered by integration tests.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryAfterMs } from '../../src/core/registry/transport.js';

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const cases: Array<{ name: string; value: string | undefined; want: number | undefined }> = [
    { name: 'seconds', value: '120', want: 120_000 },
    { name: 'zero seconds', value: '0', want: 0 },
    { name: 'seconds with spaces', value: ' 5 ', want: 5_000 },
    { name: 'HTTP date in the future', value: 'Wed, 01 Jan 2025 00:00:30 GMT', want: 30_000 },
    { name: 'HTTP date in the past is "now"', value: 'Tue, 31 Dec 2024 23:59:00 GMT', want: 0 },
    { name: 'HTTP date equal to now', value: 'Wed, 01 Jan 2025 00:00:00 GMT', want: 0 },
    { name: 'missing', value: undefined, want: undefined },
    { name: 'empty', value: '', want: undefined },
    { name: 'garbage', value: 'soon', want: undefined },
    { name: 'seconds with a unit', value: '5 seconds', want: undefined },
    { name: 'digits and letters', value: '12abc', want: undefined },
    // Date.parse's legacy fallback would read these as dates in 2001 ("retry now").
    { name: 'fractional seconds (not allowed by RFC 9110)', value: '1.5', want: undefined },
    { name: 'negative seconds', value: '-5', want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.equal(retryAfterMs(c.value, now), c.want));
});
