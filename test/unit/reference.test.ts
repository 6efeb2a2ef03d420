import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatReference,
  parseLayoutReference,
  parseReference,
  parseRegistryReference,
  parseRegistryTarget,
  registryEndpoint,
  type RegistryReference,
} from '../../src/core/oci/reference.js';
import { assertThrowsCode } from './helpers/errors.js';
import { fakeDigest } from './helpers/oci.js';

const D = fakeDigest('0');
const D512 = fakeDigest('f', 'sha512');

describe('parseRegistryReference', () => {
  const cases: Array<{ name: string; input: string; want: Omit<RegistryReference, 'kind'> }> = [
    { name: 'bare name gets docker.io, library/ and latest', input: 'ubuntu', want: { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' } },
    { name: 'bare name with tag', input: 'ubuntu:22.04', want: { registry: 'docker.io', repository: 'library/ubuntu', tag: '22.04' } },
    { name: 'user/app stays on docker.io without library/', input: 'user/app', want: { registry: 'docker.io', repository: 'user/app', tag: 'latest' } },
    { name: 'explicit docker.io gets library/', input: 'docker.io/ubuntu', want: { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' } },
    { name: 'index.docker.io is docker.io', input: 'index.docker.io/library/x', want: { registry: 'docker.io', repository: 'library/x', tag: 'latest' } },
    { name: 'registry-1.docker.io is docker.io', input: 'registry-1.docker.io/x:1', want: { registry: 'docker.io', repository: 'library/x', tag: '1' } },
    { name: 'registry host is lowercased', input: 'GHCR.IO/org/app', want: { registry: 'ghcr.io', repository: 'org/app', tag: 'latest' } },
    { name: 'localhost with port, nested repository and tag', input: 'localhost:5000/a/b:t', want: { registry: 'localhost:5000', repository: 'a/b', tag: 't' } },
    { name: 'localhost without port', input: 'localhost/app', want: { registry: 'localhost', repository: 'app', tag: 'latest' } },
    { name: 'IPv4 with port and digest: no default tag', input: `127.0.0.1:5000/x@${D}`, want: { registry: '127.0.0.1:5000', repository: 'x', digest: D } },
    { name: 'IPv6 literal with port', input: '[::1]:5000/x:v', want: { registry: '[::1]:5000', repository: 'x', tag: 'v' } },
    { name: 'tag and digest together', input: `ghcr.io/org/app:v1@${D}`, want: { registry: 'ghcr.io', repository: 'org/app', tag: 'v1', digest: D } },
    { name: 'sha512 digest', input: `ubuntu@${D512}`, want: { registry: 'docker.io', repository: 'library/ubuntu', digest: D512 } },
    { name: 'separators inside components', input: 'quay.io/a.b/c_d/e__f/g--h:T_1.x-y', want: { registry: 'quay.io', repository: 'a.b/c_d/e__f/g--h', tag: 'T_1.x-y' } },
    { name: '128-character tag', input: `x:${'t'.repeat(128)}`, want: { registry: 'docker.io', repository: 'library/x', tag: 't'.repeat(128) } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(parseRegistryReference(c.input), { kind: 'registry', ...c.want });
      assert.deepEqual(parseReference(c.input), { kind: 'registry', ...c.want });
    });
  }

  const longRepo = `org/${'a'.repeat(250)}`;
  const bad: Array<{ name: string; input: string; why?: string }> = [
    { name: 'empty', input: '', why: 'empty' },
    { name: 'whitespace', input: 'ubuntu latest', why: 'whitespace' },
    { name: 'uppercase repository', input: 'Ubuntu', why: 'Ubuntu' },
    { name: 'uppercase repository after a registry', input: 'ghcr.io/Org/app' },
    { name: 'short digest', input: 'ubuntu@sha256:abc' },
    { name: 'uppercase digest hex', input: `ubuntu@sha256:${'A'.repeat(64)}` },
    { name: 'unknown digest algorithm', input: `ubuntu@md5:${'a'.repeat(32)}` },
    { name: 'empty digest', input: 'ubuntu@' },
    { name: 'empty tag', input: 'ubuntu:' },
    { name: 'tag starting with a dot', input: 'ubuntu:.x' },
    { name: 'tag of 129 characters', input: `ubuntu:${'t'.repeat(129)}` },
    { name: 'tag with a "+"', input: 'ubuntu:v+1' },
    { name: 'empty path component', input: 'ghcr.io/org//app' },
    { name: 'component ending with a separator', input: 'ghcr.io/org-/app' },
    { name: 'empty repository after a registry', input: 'ghcr.io/' },
    { name: 'port out of range', input: 'localhost:99999/x', why: '99999' },
    { name: 'port zero', input: 'localhost:0/x' },
    { name: 'host with a bad character', input: 'my_host.io/x' },
    { name: 'name over 255 characters', input: `ghcr.io/${longRepo}`, why: '255' },
    { name: 'docker.io name over 255 characters once normalized', input: 'a'.repeat(240), why: '255' },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      assertThrowsCode(() => parseRegistryReference(c.input), {
        code: 'INVALID_REFERENCE',
        includes: [`"${c.input}"`, ...(c.why ? [c.why] : [])],
        check: (e) => assert.equal(e.ref, c.input),
      });
    });
  }

  it('accepts a name of exactly 255 characters', () => {
    const repo = `org/${'a'.repeat(255 - 'ghcr.io/org/'.length)}`;
    assert.equal(`ghcr.io/${repo}`.length, 255);
    assert.equal(parseRegistryReference(`ghcr.io/${repo}`).repository, repo);
  });
});

describe('parseLayoutReference', () => {
  const cases: Array<{ name: string; input: string; want: { path: string; tag?: string; digest?: string } }> = [
    { name: 'relative dir, no tag', input: 'oci:./dir', want: { path: './dir' } },
    { name: 'bare dir', input: 'oci:dir', want: { path: 'dir' } },
    { name: 'absolute dir with tag', input: 'oci:/a/b:tag', want: { path: '/a/b', tag: 'tag' } },
    { name: 'dir with digest', input: `oci:dir@${D}`, want: { path: 'dir', digest: D } },
    { name: 'dir with tag and digest (as formatted for a pinned tag)', input: `oci:/a/b:v1-soci@${D}`, want: { path: '/a/b', tag: 'v1-soci', digest: D } },
    { name: 'ref name with dots, slashes and colons', input: 'oci:/a/b:v1.0', want: { path: '/a/b', tag: 'v1.0' } },
    { name: 'a colon inside the path is not a tag when a slash follows it', input: 'oci:/a:b/c', want: { path: '/a:b/c' } },
    { name: 'an @ not followed by a digest stays in the path', input: 'oci:/a@b/c', want: { path: '/a@b/c' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(parseLayoutReference(c.input), { kind: 'oci-layout', ...c.want });
      assert.deepEqual(parseReference(c.input), { kind: 'oci-layout', ...c.want });
    });
  }

  const bad: Array<{ name: string; input: string }> = [
    { name: 'empty path', input: 'oci:' },
    { name: 'empty path with a tag', input: 'oci::tag' },
    { name: 'bad digest', input: 'oci:dir@sha256:1234' },
    { name: 'empty tag', input: 'oci:dir:' },
    { name: 'tag with spaces', input: 'oci:dir:a b' },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      assertThrowsCode(() => parseReference(c.input), { code: 'INVALID_REFERENCE', includes: [`"${c.input}"`] });
    });
  }
});

describe('formatReference', () => {
  const cases: Array<{ input: string; want: string }> = [
    { input: 'ubuntu', want: 'docker.io/library/ubuntu:latest' },
    { input: 'user/app:1', want: 'docker.io/user/app:1' },
    { input: `localhost:5000/a/b:t@${D}`, want: `localhost:5000/a/b:t@${D}` },
    { input: `127.0.0.1:5000/x@${D}`, want: `127.0.0.1:5000/x@${D}` },
    { input: 'oci:./dir', want: 'oci:./dir' },
    { input: 'oci:/a/b:tag', want: 'oci:/a/b:tag' },
    { input: `oci:dir@${D}`, want: `oci:dir@${D}` },
    { input: `oci:/a/b:v1@${D}`, want: `oci:/a/b:v1@${D}` },
  ];
  for (const c of cases) {
    it(`${c.input} -> ${c.want}, and parses back to the same reference`, () => {
      const ref = parseReference(c.input);
      assert.equal(formatReference(ref), c.want);
      assert.deepEqual(parseReference(formatReference(ref)), ref);
    });
  }
});

describe('registryEndpoint', () => {
  const cases = [
    { registry: 'docker.io', want: 'registry-1.docker.io' },
    { registry: 'ghcr.io', want: 'ghcr.io' },
    { registry: '127.0.0.1:5000', want: '127.0.0.1:5000' },
  ];
  for (const c of cases) {
    it(`${c.registry} -> ${c.want}`, () => assert.equal(registryEndpoint(c.registry), c.want));
  }
  it('is where a parsed Docker Hub reference is served', () => {
    assert.equal(registryEndpoint(parseRegistryReference('index.docker.io/library/x').registry), 'registry-1.docker.io');
  });
});

describe('parseRegistryTarget', () => {
  const cases: Array<{ input: string; want: { registry: string; repository?: string } }> = [
    { input: 'ghcr.io', want: { registry: 'ghcr.io' } },
    { input: 'ghcr.io/', want: { registry: 'ghcr.io' } },
    { input: '127.0.0.1:5000', want: { registry: '127.0.0.1:5000' } },
    { input: 'localhost', want: { registry: 'localhost' } },
    { input: 'index.docker.io', want: { registry: 'docker.io' } },
    { input: 'ghcr.io/org/app', want: { registry: 'ghcr.io', repository: 'org/app' } },
    { input: 'ghcr.io/org/app/', want: { registry: 'ghcr.io', repository: 'org/app' } },
    { input: 'ubuntu', want: { registry: 'docker.io', repository: 'library/ubuntu' } },
    { input: 'user/app', want: { registry: 'docker.io', repository: 'user/app' } },
  ];
  for (const c of cases) {
    it(`${c.input} -> ${JSON.stringify(c.want)}`, () => assert.deepEqual(parseRegistryTarget(c.input), c.want));
  }

  const bad = ['ubuntu:22.04', 'ubuntu:latest', 'ghcr.io/org/app:v1', `ghcr.io/org/app@${D}`, 'ghcr.io:latest', 'Ghcr/App'];
  for (const input of bad) {
    it(`rejects ${input}`, () => assertThrowsCode(() => parseRegistryTarget(input), { code: 'INVALID_REFERENCE', includes: [input] }));
  }
});
