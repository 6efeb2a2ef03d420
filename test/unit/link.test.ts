import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextPageUrl, parseLinkHeader, type Link } from '../../src/core/registry/link.js';
import { assertThrowsCode } from './helpers/errors.js';

describe('parseLinkHeader', () => {
  const cases: Array<{ name: string; header: string; want: Link[] }> = [
    {
      name: 'one relative next link (distribution)',
      header: '</v2/_catalog?last=b&n=2>; rel="next"',
      want: [{ target: '/v2/_catalog?last=b&n=2', rel: ['next'], params: { rel: 'next' } }],
    },
    {
      name: 'unquoted rel, uppercase names and values',
      header: '<https://r.io/v2/x/tags/list?n=1&last=a>; REL=Next',
      want: [{ target: 'https://r.io/v2/x/tags/list?n=1&last=a', rel: ['next'], params: { rel: 'Next' } }],
    },
    {
      name: 'rel with several values',
      header: '</page/3>; rel="prev next"',
      want: [{ target: '/page/3', rel: ['prev', 'next'], params: { rel: 'prev next' } }],
    },
    {
      name: 'several links in one header',
      header: '</a>; rel="prev", </b>; rel="next", </c>; rel=last',
      want: [
        { target: '/a', rel: ['prev'], params: { rel: 'prev' } },
        { target: '/b', rel: ['next'], params: { rel: 'next' } },
        { target: '/c', rel: ['last'], params: { rel: 'last' } },
      ],
    },
    {
      name: 'quoted parameters holding ";" and "," and escaped quotes',
      header: '</a>; title="x; rel=next, </evil>"; rel="prev", </b>; title="say \\"hi\\""; rel="next"',
      want: [
        { target: '/a', rel: ['prev'], params: { title: 'x; rel=next, </evil>', rel: 'prev' } },
        { target: '/b', rel: ['next'], params: { title: 'say "hi"', rel: 'next' } },
      ],
    },
    {
      name: 'the first of a repeated parameter wins',
      header: '</a>; rel="next"; rel="prev"',
      want: [{ target: '/a', rel: ['next'], params: { rel: 'next' } }],
    },
    {
      name: 'link without parameters',
      header: '</a>',
      want: [{ target: '/a', rel: [], params: {} }],
    },
    { name: 'empty header', header: '', want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseLinkHeader(c.header), c.want));
  }
});

describe('nextPageUrl', () => {
  const current = new URL('https://r.io/v2/_catalog?n=2');
  const cases: Array<{ name: string; header: string | undefined; want: string | undefined }> = [
    { name: 'relative link resolved against the current URL', header: '</v2/_catalog?last=b&n=2>; rel="next"', want: 'https://r.io/v2/_catalog?last=b&n=2' },
    { name: 'path-relative link', header: '<_catalog?last=b&n=2>; rel="next"', want: 'https://r.io/v2/_catalog?last=b&n=2' },
    { name: 'query-only link', header: '<?last=c&n=2>; rel="next"', want: 'https://r.io/v2/_catalog?last=c&n=2' },
    { name: 'absolute link on the same host', header: '<https://r.io/v2/_catalog?last=b&n=2>; rel="next"', want: 'https://r.io/v2/_catalog?last=b&n=2' },
    { name: 'next among several rels and links', header: '</first>; rel="first", </p>; rel="prev next"', want: 'https://r.io/p' },
    { name: 'no next link', header: '</v2/_catalog?n=2>; rel="prev"', want: undefined },
    { name: 'no header', header: undefined, want: undefined },
    { name: 'empty header', header: '', want: undefined },
    { name: 'a quoted "rel=next" inside another parameter is not a next link', header: '</a>; title="rel=next"', want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(nextPageUrl(c.header, current, 'r.io')?.href, c.want));
  }

  const refused: Array<{ name: string; header: string }> = [
    { name: 'another host', header: '<https://evil.example/v2/_catalog?last=b>; rel="next"' },
    { name: 'another host, protocol-relative', header: '<//evil.example/v2/_catalog>; rel="next"' },
    { name: 'the same host on another port', header: '<https://r.io:8443/v2/_catalog>; rel="next"' },
    { name: 'the same host over plain HTTP', header: '<http://r.io/v2/_catalog>; rel="next"' },
  ];
  for (const c of refused) {
    it(`refuses a next link to ${c.name}`, () => {
      assertThrowsCode(() => nextPageUrl(c.header, current, 'r.io/app'), { code: 'REGISTRY', includes: ['another host', 'r.io/app'] });
    });
  }

  it('rejects a next link that is not a URL', () => {
    assertThrowsCode(() => nextPageUrl('<http://[bad>; rel="next"', current, 'r.io'), { code: 'REGISTRY', includes: ['invalid next-page link'] });
  });
});
