import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazyImageError } from '../../../src/core/errors.js';
import { parsePrioritizeFile, profilePaths, profileText, PROFILE_KIND, PROFILE_VERSION, type StartupProfile } from '../../../src/core/optimize/index.js';

const L1 = `sha256:${'1'.repeat(64)}`;
const L2 = `sha256:${'2'.repeat(64)}`;
const PROFILE: StartupProfile = {
  kind: PROFILE_KIND,
  version: PROFILE_VERSION,
  image: { manifest: `sha256:${'9'.repeat(64)}`, layers: [L1, L2] },
  run: { args: ['/app/start'], env: [], cwd: '/', user: '0', network: false, periodSeconds: 10, seconds: 0.5, exitCode: 0, stopped: false },
  files: [
    { path: 'app/start', layer: 2, digest: L2, size: 10, how: 'exec' },
    { path: 'usr/bin/dash', layer: 1, digest: L1, size: 100, how: 'interpreter' },
    { path: 'etc/os-release', layer: 2, digest: L2, size: 5, how: 'open' },
  ],
};
const layer = (digest: string): { mediaType: string; digest: string; size: number } => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size: 1 });

describe('startup profiles', () => {
  it('read back what they write', () => {
    assert.deepEqual(parsePrioritizeFile(profileText(PROFILE), 'p'), { kind: 'profile', profile: PROFILE });
  });

  it('give each recorded layer its own files, in order, and an unknown layer every file', () => {
    assert.deepEqual(profilePaths(PROFILE, layer(L2)), ['app/start', 'etc/os-release']);
    assert.deepEqual(profilePaths(PROFILE, layer(L1)), ['usr/bin/dash']);
    assert.deepEqual(profilePaths({ ...PROFILE, files: PROFILE.files.filter((f) => f.layer === 2) }, layer(L1)), []);
    assert.deepEqual(profilePaths(PROFILE, layer(`sha256:${'3'.repeat(64)}`)), ['app/start', 'usr/bin/dash', 'etc/os-release']);
  });

  it('stand beside plain lists and ctr-remote\'s record', () => {
    assert.deepEqual(parsePrioritizeFile('# first\n/usr/bin/x\n\n  etc/y  \r\n', 'p'), { kind: 'paths', paths: ['/usr/bin/x', 'etc/y'] });
    const record = [
      { path: 'usr/bin/python3.11', manifestDigest: 'sha256:a', layerIndex: 0 },
      { path: 'usr/bin/python3.11', manifestDigest: 'sha256:a', layerIndex: 0 },
      { path: 'etc/ld.so.cache', manifestDigest: 'sha256:a', layerIndex: 0 },
    ].map((r) => JSON.stringify(r)).join('\n');
    assert.deepEqual(parsePrioritizeFile(`${record}\n`, 'p'), { kind: 'paths', paths: ['usr/bin/python3.11', 'etc/ld.so.cache'] });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{"kind": ', /not JSON/],
    ['another kind', JSON.stringify({ kind: 'other' }), /not a startup profile/],
    ['another version', JSON.stringify({ ...PROFILE, version: 2 }), /version 2 is not 1/],
    ['no layers', JSON.stringify({ ...PROFILE, image: {} }), /image.layers/],
    ['a file without a path', JSON.stringify({ ...PROFILE, files: [{ layer: 1, digest: L1 }] }), /files\[0\] needs a path/],
    ['a record line that is not JSON', '{"path":"a"}\n{oops\n', /line 2 is not JSON/],
  ];
  for (const [name, text, message] of bad) {
    it(`refuse ${name}, saying where`, () => {
      assert.throws(() => parsePrioritizeFile(text, '--prioritize-file x.json'), (e: unknown) => e instanceof LazyImageError && e.code === 'INVALID_FORMAT' && message.test(e.message) && e.message.startsWith('--prioritize-file x.json: '));
    });
  }
});
