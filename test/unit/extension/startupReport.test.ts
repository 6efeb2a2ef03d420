// The recorded list of Optimize for Startup...: every file in order with its layer and size, and
// what came from the image (paths, output) kept as text, never read as Markdown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILE_KIND, PROFILE_VERSION, type StartupProfile } from '../../../src/core/optimize/index.js';
import { renderStartupReport } from '../../../src/extension/reports/startupReport.js';

const LAYERS = ['sha256:aaa', 'sha256:bbb'];

function profile(files: StartupProfile['files'], run: Partial<StartupProfile['run']> = {}): StartupProfile {
  return {
    kind: PROFILE_KIND, version: PROFILE_VERSION, image: { manifest: 'sha256:mmm', layers: LAYERS },
    run: { args: ['/bin/sh', '-c', 'cat /etc/os-release'], env: [], cwd: '/app', user: '0', network: false, periodSeconds: 10, seconds: 0.25, exitCode: 0, stopped: false, ...run },
    files,
  };
}

const render = (p: StartupProfile, output = ''): string => renderStartupReport({ name: 'shell:v1', source: 'oci:/l:v1', destination: 'oci:/l:v1-opt', profile: p, output });

describe('the startup report', () => {
  it('lists the files in order of first access, with layer, size and how each was reached', () => {
    const text = render(profile([
      { path: 'usr/bin/dash', layer: 1, digest: LAYERS[0]!, size: 125640, how: 'exec' },
      { path: 'usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', layer: 1, digest: LAYERS[0]!, size: 215000, how: 'interpreter' },
      { path: 'etc/os-release', layer: 2, digest: LAYERS[1]!, size: 42, how: 'open' },
    ]), 'NAME="x"\n');
    assert.deepEqual(text.split('\n').filter((l) => /^\| \d/.test(l)), [
      '| 1 | `/usr/bin/dash` | 1/2 | 122.7 KiB | executed |',
      '| 2 | `/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2` | 1/2 | 210.0 KiB | loaded by the kernel |',
      '| 3 | `/etc/os-release` | 2/2 | 42 B | opened |',
    ]);
    assert.match(text, /^# Startup profile of `shell:v1`$/m);
    assert.match(text, /- Command: `\/bin\/sh -c 'cat \/etc\/os-release'`, as user `0` in `\/app`, with no network/);
    assert.match(text, /- The workload exited with 0 after 0\.3 s\./);
    assert.match(text, /- 3 files of the image read \(332\.7 KiB\)/);
    assert.match(text, /```text\nNAME="x"\n```/);
  });

  it('says when the workload was stopped at its period, and when it printed nothing', () => {
    const text = render(profile([], { stopped: true, exitCode: undefined, periodSeconds: 5, seconds: 5.1 }));
    assert.match(text, /- The workload was stopped when its 5 s period ran out\./);
    assert.match(text, /## Output\n\nNone\./);
  });

  it('keeps paths with backticks and pipes inside their cell, and output that fakes a fence inside its block', () => {
    const text = render(profile([{ path: 'odd/a`b|c', layer: 1, digest: LAYERS[0]!, size: 1, how: 'open' }]), 'one\n```\n# not a heading\n\x1b[31mred\x1b[0m\n');
    assert.ok(text.includes('| 1 | ``/odd/a`b\\|c`` | 1/2 | 1 B | opened |'), text);
    assert.match(text, /````text\none\n```\n# not a heading\nred\n````/);
  });

  it('shows the last lines of a long output', () => {
    const output = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n');
    const text = render(profile([]), output);
    assert.match(text, /## Output \(last 20 lines\)/);
    assert.ok(text.includes('line 11\n') && !text.includes('line 10\n'), text);
  });
});
