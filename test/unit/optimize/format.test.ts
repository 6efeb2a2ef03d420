import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazyImageError } from '../../../src/core/errors.js';
import { checkOptimizeFormat } from '../../../src/core/jobs/index.js';
import { profilePrefetchFiles, PROFILE_KIND, PROFILE_VERSION, type StartupProfile } from '../../../src/core/optimize/index.js';
import { cleanPrefetchPath } from '../../../src/core/soci/index.js';

const L1 = `sha256:${'1'.repeat(64)}`;
const L2 = `sha256:${'2'.repeat(64)}`;

function invalid(message: RegExp): (e: unknown) => boolean {
  return (e) => e instanceof LazyImageError && e.code === 'INVALID_ARGUMENT' && message.test(e.message);
}

describe('optimize formats', () => {
  it('default to estargz and take each format\'s own options', () => {
    assert.equal(checkOptimizeFormat({}), 'estargz');
    assert.equal(checkOptimizeFormat({ level: 1, chunkSize: 4096 }), 'estargz');
    assert.equal(checkOptimizeFormat({ format: 'soci', sociVersion: 'v1', spanSize: 65536, minLayerSize: 0 }), 'soci');
    // Unset members, as the CLI and the worker pass them, are not given options.
    assert.equal(checkOptimizeFormat({ format: 'soci', level: undefined, chunkSize: undefined }), 'soci');
  });

  it('refuse the other format\'s options and unknown formats before anything runs', () => {
    assert.throws(() => checkOptimizeFormat({ format: 'soci', level: 9 }), invalid(/^level does not apply to the soci format$/));
    assert.throws(() => checkOptimizeFormat({ spanSize: 65536, minLayerSize: 0 }), invalid(/^spanSize, minLayerSize do not apply to the estargz format$/));
    // minLayerSize 0 is a value, not an absent option.
    assert.throws(() => checkOptimizeFormat({ format: 'estargz', minLayerSize: 0 }), invalid(/minLayerSize/));
    assert.throws(() => checkOptimizeFormat({ format: 'zstd' as 'soci' }), invalid(/format zstd is not supported: use estargz or soci/));
  });
});

describe('recorded files as SOCI prefetch files', () => {
  const profile: StartupProfile = {
    kind: PROFILE_KIND,
    version: PROFILE_VERSION,
    image: { manifest: `sha256:${'9'.repeat(64)}`, layers: [L1, L2] },
    run: { args: ['/app/start'], env: [], cwd: '/', user: '0', network: false, periodSeconds: 10, seconds: 0.5, exitCode: 0, stopped: false },
    files: [
      { path: 'app/start', layer: 2, digest: L2, size: 10, how: 'exec' },
      { path: 'usr/bin/dash', layer: 1, digest: L1, size: 100, how: 'interpreter' },
      { path: 'usr/lib/os-release', layer: 2, digest: L2, size: 5, how: 'open' },
      { path: 'usr/lib/x86_64-linux-gnu/libc.so.6', layer: 1, digest: L1, size: 1000, how: 'open' },
    ],
  };

  it('are the recorded real paths, absolute, in order of first access', () => {
    const files = profilePrefetchFiles(profile);
    assert.deepEqual(files, ['/app/start', '/usr/bin/dash', '/usr/lib/os-release', '/usr/lib/x86_64-linux-gnu/libc.so.6']);
    // soci cleans each to the tar name it looks for: the profile's path, whatever layer holds it.
    assert.deepEqual(files.map(cleanPrefetchPath), profile.files.map((f) => f.path));
  });

  it('name a file once', () => {
    assert.deepEqual(profilePrefetchFiles({ ...profile, files: [...profile.files, profile.files[1]!] }), profilePrefetchFiles(profile));
    assert.deepEqual(profilePrefetchFiles({ ...profile, files: [] }), []);
  });
});
