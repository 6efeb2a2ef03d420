import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenges, type Challenge } from '../../src/core/registry/challenge.js';

describe('parseChallenges', () => {
  const cases: Array<{ name: string; header: string; want: Challenge[] }> = [
    {
      name: 'Bearer with realm, service and scope (Docker Hub)',
      header: 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"',
      want: [{ scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/ubuntu:pull' } }],
    },
    {
      name: 'Bearer without scope',
      header: 'Bearer realm="https://ghcr.io/token",service="ghcr.io"',
      want: [{ scheme: 'bearer', params: { realm: 'https://ghcr.io/token', service: 'ghcr.io' } }],
    },
    {
      name: 'parameters in another order, with spaces around "=" and ","',
      header: 'Bearer scope="repository:a/b:pull,push" ,  service = "svc",realm= "https://auth/token"',
      want: [{ scheme: 'bearer', params: { scope: 'repository:a/b:pull,push', service: 'svc', realm: 'https://auth/token' } }],
    },
    {
      name: 'quoted values with commas and escaped quotes and backslashes',
      header: 'Bearer realm="https://a/t?x=1,2",error_description="say \\"hi\\", then \\\\ go",service="s"',
      want: [{ scheme: 'bearer', params: { realm: 'https://a/t?x=1,2', error_description: 'say "hi", then \\ go', service: 's' } }],
    },
    {
      name: 'unquoted token values',
      header: 'Bearer realm="https://a/t", error=insufficient_scope',
      want: [{ scheme: 'bearer', params: { realm: 'https://a/t', error: 'insufficient_scope' } }],
    },
    {
      name: 'two challenges in one header',
      header: 'Basic realm="x", Bearer realm="y",service="z"',
      want: [
        { scheme: 'basic', params: { realm: 'x' } },
        { scheme: 'bearer', params: { realm: 'y', service: 'z' } },
      ],
    },
    {
      name: 'token68 challenge',
      header: 'Negotiate abc==',
      want: [{ scheme: 'negotiate', params: {}, token68: 'abc==' }],
    },
    {
      name: 'token68 followed by a parameterized challenge',
      header: 'Negotiate a+b/c==, Bearer realm="r"',
      want: [
        { scheme: 'negotiate', params: {}, token68: 'a+b/c==' },
        { scheme: 'bearer', params: { realm: 'r' } },
      ],
    },
    {
      name: 'parameterized challenge followed by a token68 one',
      header: 'Bearer realm="r", Negotiate abc',
      want: [
        { scheme: 'bearer', params: { realm: 'r' } },
        { scheme: 'negotiate', params: {}, token68: 'abc' },
      ],
    },
    {
      name: 'scheme without parameters, then another challenge',
      header: 'Basic, Bearer realm="r"',
      want: [
        { scheme: 'basic', params: {} },
        { scheme: 'bearer', params: { realm: 'r' } },
      ],
    },
    {
      name: 'scheme and parameter names are case-insensitive, values are kept as sent',
      header: 'BEARER Realm="https://Auth/Token",SERVICE="Registry"',
      want: [{ scheme: 'bearer', params: { realm: 'https://Auth/Token', service: 'Registry' } }],
    },
    {
      name: 'a truncated quoted value ends at the end of the header',
      header: 'Bearer realm="https://auth',
      want: [{ scheme: 'bearer', params: { realm: 'https://auth' } }],
    },
    { name: 'empty header', header: '', want: [] },
    { name: 'only separators and spaces', header: ' , ,, ', want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseChallenges(c.header), c.want));
  }
});
