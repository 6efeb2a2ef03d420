import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PROFILES, followFile, managedPaths, parseMountInfo, parseVersionOutput, lastLoggedError, processStartedAt } from '../../../src/core/snapshotter/index.js';

describe('parseVersionOutput', () => {
  const cases = [
    { name: 'stargz', binary: 'containerd-stargz-grpc', out: 'containerd-stargz-grpc v0.19.1 0a1b2c3d\n', version: 'v0.19.1', revision: '0a1b2c3d' },
    { name: 'soci (urfave/cli)', binary: 'soci-snapshotter-grpc', out: 'soci-snapshotter-grpc version v0.16.1 61147fe7\n', version: 'v0.16.1', revision: '61147fe7' },
    { name: 'a go install build', binary: 'soci-snapshotter-grpc', out: 'soci-snapshotter-grpc version <unknown> <unknown>\n', version: undefined, revision: undefined },
    { name: 'a path as the name', binary: 'containerd-stargz-grpc', out: '/usr/local/bin/containerd-stargz-grpc v0.18.2 abc', version: 'v0.18.2', revision: 'abc' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = parseVersionOutput(c.binary, c.out);
      assert.deepEqual([v.version, v.revision, v.raw], [c.version, c.revision, c.out.trim()]);
    });
  }
});

describe('parseMountInfo', () => {
  it('reads mount points with escapes and the filesystem type after the separator', () => {
    const text = [
      '36 35 98:0 / / rw,relatime master:1 - ext4 /dev/root rw',
      '120 36 0:55 / /tmp/d\\040x/root/snapshotter/snapshots/1/fs rw,nosuid,nodev,relatime shared:7 - fuse.rawBridge soci rw,user_id=0,group_id=0',
      'garbage',
    ].join('\n');
    assert.deepEqual(parseMountInfo(text), [
      { mountPoint: '/', fsType: 'ext4', source: '/dev/root' },
      { mountPoint: '/tmp/d x/root/snapshotter/snapshots/1/fs', fsType: 'fuse.rawBridge', source: 'soci' },
    ]);
  });
});

describe('managedPaths', () => {
  it('keeps everything of a managed daemon in its folder', () => {
    assert.deepEqual(managedPaths({ profile: PROFILES.soci, dir: '/tmp/d' }), {
      socket: '/tmp/d/soci.sock', root: '/tmp/d/root', config: '/tmp/d/config.toml', logFile: '/tmp/d/soci.log', pidFile: '/tmp/d/soci.pid',
    });
  });
  it('uses the daemon defaults otherwise, with the log and pid beside the socket', () => {
    const p = managedPaths({ profile: PROFILES.stargz });
    assert.deepEqual([p.socket, p.root, p.config, p.pidFile], [PROFILES.stargz.socket, PROFILES.stargz.root, PROFILES.stargz.config, '/run/containerd-stargz-grpc/stargz.pid']);
  });
});

describe('processStartedAt', () => {
  it("reads a live process's start from /proc, to the second; a gone one has none", async () => {
    const before = Date.now();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await new Promise((done) => child.once('spawn', done));
    const started = await processStartedAt(child.pid!);
    const after = Date.now();
    child.kill();
    await new Promise((done) => child.once('exit', done));
    // The boot time in /proc/stat is whole seconds, rounded down: the start may read up to 1 s early, and a tick more.
    assert.ok(started !== undefined && started >= before - 2000 && started <= after + 1000, `${started} not in [${before}, ${after}]`);
    assert.equal(await processStartedAt(child.pid!), undefined);
  });
});

describe('lastLoggedError', () => {
  it("takes the error of the last fatal line of the daemons' JSON log", () => {
    const tail = [
      '{"level":"info","msg":"starting soci-snapshotter-grpc"}',
      '{"error":"failed to get listener for metrics endpoint: listen tcp 127.0.0.1:1: bind: address already in use","level":"fatal","msg":"failed to serve snapshotter"}',
    ].join('\n');
    assert.equal(lastLoggedError(tail), 'failed to get listener for metrics endpoint: listen tcp 127.0.0.1:1: bind: address already in use');
    assert.equal(lastLoggedError('panic: oops\n'), undefined);
  });
});

describe('followFile', () => {
  it('yields the last lines, then each line appended, until aborted', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lazyimg-follow-'));
    try {
      const file = join(dir, 'daemon.log');
      await writeFile(file, 'one\ntwo\nthree\n');
      const controller = new AbortController();
      const seen: string[] = [];
      for await (const line of followFile(file, { lines: 2, signal: controller.signal })) {
        seen.push(line);
        if (seen.length === 2) await appendFile(file, 'four\nfi');
        if (seen.length === 3) await appendFile(file, 've\n');
        if (seen.length === 4) controller.abort();
      }
      assert.deepEqual(seen, ['two', 'three', 'four', 'five']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('controlUnit', () => {
  it('never runs sudo: as another user than root it names the command to run', { skip: process.getuid?.() !== 0 && 'needs root to run as another user' }, () => {
    const systemd = resolve(__dirname, '..', '..', '..', 'src', 'core', 'snapshotter', 'systemd.js');
    const script = `require(${JSON.stringify(systemd)}).controlUnit('restart', 'soci-snapshotter.service').catch((e) => { console.log(JSON.stringify({ state: e.state, action: e.action, message: e.message })); })`;
    const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { state: 'needs-root', action: 'run: sudo systemctl restart soci-snapshotter.service', message: 'Cannot restart soci-snapshotter.service: that needs root' });
  });
});
