import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUrl } from '../../src/core/registry/redact.js';

describe('redactUrl', () => {
  const D = `sha256:${'a'.repeat(64)}`;
  const cases: Array<{ name: string; url: string; want: string }> = [
    { name: 'no query: unchanged', url: 'https://r.io/v2/a/manifests/v1', want: 'https://r.io/v2/a/manifests/v1' },
    { name: 'user and password are stripped', url: 'https://user:pa55@r.io/v2/', want: 'https://r.io/v2/' },
    { name: 'listing parameters are kept', url: 'https://r.io/v2/_catalog?n=100&last=abc', want: 'https://r.io/v2/_catalog?n=100&last=abc' },
    {
      name: 'upload state is redacted, digest kept',
      url: `https://r.io/v2/a/blobs/uploads/3f1c?_state=c2VjcmV0&digest=${D}`,
      want: `https://r.io/v2/a/blobs/uploads/3f1c?_state=REDACTED&digest=${encodeURIComponent(D)}`,
    },
    {
      name: 'signed storage URL parameters are redacted, whatever their case',
      url: 'https://s3.example/b/x?X-Amz-Signature=abc&X-Amz-Credential=AKIA&Signature=zz',
      want: 'https://s3.example/b/x?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&Signature=REDACTED',
    },
    {
      name: 'mount, from, artifactType, service and scope are kept',
      url: 'https://r.io/v2/a/blobs/uploads/?mount=sha256:ab&from=b/c&artifactType=x&service=s&scope=repository:a:pull&token=t',
      want: 'https://r.io/v2/a/blobs/uploads/?mount=sha256%3Aab&from=b%2Fc&artifactType=x&service=s&scope=repository%3Aa%3Apull&token=REDACTED',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = redactUrl(new URL(c.url));
      assert.equal(out, c.want);
      assert.ok(!out.includes('pa55') && !out.includes('c2VjcmV0') && !out.includes('AKIA'));
    });
  }

  it('keeps the values of the safe parameters, decoded', () => {
    const out = new URL(redactUrl(new URL(`https://u:p@r.io/v2/a/blobs/uploads/1?_state=s&n=2&last=x&digest=${D}`)));
    assert.deepEqual(Object.fromEntries(out.searchParams), { _state: 'REDACTED', n: '2', last: 'x', digest: D });
    assert.equal(out.username + out.password, '');
  });

  it('does not change the URL it is given', () => {
    const url = new URL('https://u:p@r.io/x?_state=s');
    redactUrl(url);
    assert.equal(url.href, 'https://u:p@r.io/x?_state=s');
  });
});
