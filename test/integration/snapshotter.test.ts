// core/snapshotter and `lazyimg snapshotter` against the real daemons (soci-snapshotter-grpc
// v0.16.1, containerd-stargz-grpc v0.19.1), each in a temp folder of its own. Every daemon is
// stopped by PID in an after hook, and killed with its FUSE mounts unmounted on process exit.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SnapshotterError } from '../../src/core/errors.js';
import {
  PROFILES, checkHealth, managedPaths, parsePrometheusText, readMetrics, restartDaemon, scrapeMetrics, snapshotterStatus, startDaemon,
  stopDaemon, summarizeMetrics, type Health, type SnapshotterKind,
} from '../../src/core/snapshotter/index.js';
import { runCli } from './fixtures/cli.js';
import { daemonBinary, guardDaemons, leftMounts, snapshotsClient } from './fixtures/daemonTools.js';
import { freePort } from './fixtures/registry.js';

const guard = guardDaemons();

/** The recipe's configs (specs/snapshotters.md): nothing fetched behind the test's back. */
function configText(kind: SnapshotterKind, metricsPort: number): string {
  const common = `metrics_address = "127.0.0.1:${metricsPort}"\n`;
  return kind === 'stargz' ? `${common}noprefetch = true\nno_background_fetch = true\n[directory_cache]\ndirect = true\n` : `${common}[background_fetch]\ndisable = true\n`;
}

/** Polls the health until it matches; the daemons give no other signal. */
async function healthUntil(socket: string, want: boolean, timeoutMs = 20_000): Promise<Health> {
  const deadline = Date.now() + timeoutMs;
  for (let interval = 20; ; interval = Math.min(interval * 2, 250)) {
    const health = await checkHealth(socket, { timeoutMs: 2000 });
    if (health.healthy === want || Date.now() > deadline) return health;
    await new Promise((done) => setTimeout(done, interval));
  }
}

function rejectsWithState(state: string, check: (e: SnapshotterError) => void = () => undefined): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof SnapshotterError, `expected a SnapshotterError, got ${String(e)}`);
    assert.equal(e.state, state, e.message);
    assert.ok(e.action.length > 0);
    check(e);
    return true;
  };
}

for (const kind of ['soci', 'stargz'] as const) {
  describe(`the ${kind} daemon`, () => {
    const profile = PROFILES[kind];
    let binary: string;
    const dirs: string[] = [];
    const servers: Server[] = [];

    async function folder(metricsPort?: number): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), `lazyimg-${kind}-`));
      dirs.push(dir);
      guard(kind, dir);
      if (metricsPort !== undefined) await writeFile(join(dir, 'config.toml'), configText(kind, metricsPort));
      return dir;
    }

    before(() => {
      binary = daemonBinary(kind);
    });

    after(async () => {
      for (const s of servers) s.close();
      for (const dir of dirs) {
        await stopDaemon({ profile, dir });
        assert.deepEqual(await leftMounts(managedPaths({ profile, dir }).root), []);
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('starts healthy with its metrics, stops with SIGINT, restarts healthy', async () => {
      const port = await freePort();
      const dir = await folder(port);
      const daemon = await startDaemon({ profile, binary, dir, logLevel: 'debug' });
      assert.equal((await readFile(daemon.pidFile, 'utf8')).trim(), String(daemon.pid));

      // A real snapshot in the List: key, kind and labels come back decoded.
      const snapshots = snapshotsClient(daemon.socket);
      try {
        await snapshots.prepare('lazyimg-test-active', { 'lazyimg.test/purpose': 'health' });
        const health = await checkHealth(daemon.socket);
        assert.ok(health.healthy, JSON.stringify(health));
        const listed = health.snapshots.find((s) => s.key === 'lazyimg-test-active');
        assert.deepEqual(listed && { kind: listed.kind, parent: listed.parent, purpose: listed.labels['lazyimg.test/purpose'], remote: listed.remote }, { kind: 'ACTIVE', parent: '', purpose: 'health', remote: false });
        await snapshots.remove('lazyimg-test-active');
      } finally {
        snapshots.close();
      }

      const families = parsePrometheusText(await scrapeMetrics({ address: `127.0.0.1:${port}` }));
      assert.ok(families.get('go_goroutines')!.samples[0]!.value > 0);
      const summary = summarizeMetrics(profile, families);
      assert.deepEqual([summary.bytesFetched, summary.reads, summary.layers], [0, 0, []]);

      const stopped = await stopDaemon({ profile, dir });
      assert.deepEqual([stopped.pid, stopped.signal], [daemon.pid, 'SIGINT']);
      const down = await checkHealth(daemon.socket);
      assert.equal(down.healthy, false);
      assert.ok(!down.healthy && (down.reason === 'no-socket' || down.reason === 'refused'), JSON.stringify(down));
      // Refused; or reset, seen once at load 11 with another run's daemons on the machine.
      await assert.rejects(readMetrics(profile, { address: `127.0.0.1:${port}`, timeoutMs: 2000 }), /Cannot read metrics at .*: (ECONNREFUSED|ECONNRESET)/);

      const again = await restartDaemon({ profile, binary, dir });
      assert.notEqual(again.pid, daemon.pid);
      assert.equal(again.stopped.pid, undefined);
      assert.ok((await checkHealth(again.socket)).healthy);
      assert.equal((await readMetrics(profile, { address: `127.0.0.1:${port}` })).hasSnapshotterMetrics, false);
      assert.deepEqual((await stopDaemon({ profile, dir })).signal, 'SIGINT');
    });

    it('refuses a config.toml with a syntax error before starting, naming the line', async () => {
      const dir = await folder();
      await writeFile(join(dir, 'config.toml'), 'metrics_address = "127.0.0.1:1"\n\n[background_fetch\n');
      await assert.rejects(startDaemon({ profile, binary, dir }), rejectsWithState('config-invalid', (e) => {
        assert.equal(e.line, 3);
        assert.match(e.message, /config\.toml, line 3/);
      }));
    });

    it('reports a daemon that dies after start (its metrics port is taken) with its log tail', async () => {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      const dir = await folder((server.address() as { port: number }).port);
      await assert.rejects(startDaemon({ profile, binary, dir }), rejectsWithState('died', (e) => {
        assert.match(e.message, /exited with code \d+ right after start: .*address already in use/);
        assert.match(e.logTail ?? '', /address already in use/);
      }));
      assert.equal((await stopDaemon({ profile, dir })).pid, undefined);
    });

    it('refuses a socket path another process listens on', async () => {
      const dir = await folder(await freePort());
      const server = createServer();
      servers.push(server);
      await new Promise<void>((done) => server.listen(managedPaths({ profile, dir }).socket, done));
      await assert.rejects(startDaemon({ profile, binary, dir }), rejectsWithState('socket-taken'));
    });

    it('sees a daemon killed under it, cleans up after it and starts again', async () => {
      const dir = await folder(await freePort());
      const daemon = await startDaemon({ profile, binary, dir });
      process.kill(daemon.pid, 'SIGKILL');
      const health = await healthUntil(daemon.socket, false);
      assert.ok(!health.healthy && ['refused', 'unavailable', 'no-socket'].includes(health.reason), JSON.stringify(health));
      const status = await snapshotterStatus(profile, { socket: daemon.socket, config: daemon.config });
      assert.equal(status.metrics.state, 'down');
      assert.ok(status.suggestions.some((s) => s.includes(`lazyimg snapshotter start ${kind}`) || s.includes('not installed')));
      assert.equal((await stopDaemon({ profile, dir })).pid, undefined);
      const back = await startDaemon({ profile, binary, dir });
      assert.ok((await checkHealth(back.socket)).healthy);
    });

    it('is started by one lazyimg process and stopped by another, through its pid file', async () => {
      const port = await freePort();
      const dir = await folder(port);
      const start = await runCli(['snapshotter', 'start', kind, '--dir', dir, '--binary', binary]);
      assert.equal(start.code, 0, start.stderr);
      assert.match(start.stdout, new RegExp(`runs as PID \\d+ on ${dir}/${kind}\\.sock`));
      const paths = managedPaths({ profile, dir });
      const status = await runCli(['snapshotter', 'status', kind, '--socket', paths.socket, '--config', paths.config, '--json']);
      assert.equal(status.code, 0, status.stderr);
      const json = JSON.parse(status.stdout) as { health: { healthy: boolean }; metrics: { state: string; address: string } };
      assert.deepEqual([json.health.healthy, json.metrics.state, json.metrics.address], [true, 'ok', `127.0.0.1:${port}`]);

      // The daemon is up, but the config status reads names a metrics endpoint that is down.
      const elsewhere = join(dir, 'elsewhere.toml');
      await writeFile(elsewhere, configText(kind, await freePort()));
      const text = await runCli(['snapshotter', 'status', kind, '--socket', paths.socket, '--config', elsewhere]);
      assert.match(text.stdout, /health {6}healthy/);
      assert.match(text.stdout, /metrics {5}down: Cannot read metrics at http:\/\/127\.0\.0\.1:\d+\/metrics: (ECONNREFUSED|ECONNRESET)/);
      assert.match(text.stdout, /-> the metrics endpoint .* does not answer/);

      const stop = await runCli(['snapshotter', 'stop', kind, '--dir', dir]);
      assert.equal(stop.code, 0, stop.stderr);
      assert.match(stop.stdout, /Stopped .* \(PID \d+\) with SIGINT/);
      const after = JSON.parse((await runCli(['snapshotter', 'status', kind, '--socket', paths.socket, '--config', paths.config, '--json'])).stdout) as { health: { healthy: boolean }; metrics: { state: string } };
      assert.deepEqual([after.health.healthy, after.metrics.state], [false, 'down']);
    });
  });
}

describe('snapshotter states without a daemon', () => {
  it('a missing binary says how to get it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lazyimg-nobinary-'));
    try {
      await assert.rejects(startDaemon({ profile: PROFILES.soci, binary: join(dir, 'soci-snapshotter-grpc'), dir }), rejectsWithState('binary-missing', (e) => assert.match(e.action, /install soci-snapshotter-grpc/)));
      const cli = await runCli(['snapshotter', 'start', 'stargz', '--dir', dir, '--binary', join(dir, 'nope')]);
      assert.equal(cli.code, 1);
      assert.match(cli.stderr, /is not an executable file\nlazyimg: what to do: install containerd-stargz-grpc/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a containerd config without the proxy plugin gets the TOML to add, which fixes it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lazyimg-containerd-config-'));
    try {
      const file = join(dir, 'config.toml');
      await writeFile(file, 'version = 3\n[grpc]\n  address = "/run/containerd/containerd.sock"\n');
      const missing = await runCli(['snapshotter', 'check-containerd', 'soci', '--containerd-config', file]);
      assert.equal(missing.code, 1);
      assert.match(missing.stdout, /no \[proxy_plugins\] entry points at \/run\/soci-snapshotter-grpc\/soci-snapshotter-grpc\.sock/);
      const snippet = missing.stdout.slice(missing.stdout.indexOf('[proxy_plugins.soci]'));
      assert.match(snippet, /enable_remote_snapshot_annotations = "true"/);
      await writeFile(file, `${await readFile(file, 'utf8')}${snippet}`);
      const fixed = await runCli(['snapshotter', 'check-containerd', 'soci', '--containerd-config', file]);
      assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
      assert.match(fixed.stdout, /containerd uses soci as proxy plugin "soci"/);
      const broken = await runCli(['snapshotter', 'check-config', 'soci', join(dir, 'nothere.toml')]);
      assert.equal(broken.code, 0);
      await writeFile(join(dir, 'soci.toml'), 'metrics_address = 8000\n');
      const typed = await runCli(['snapshotter', 'check-config', 'soci', join(dir, 'soci.toml')]);
      assert.equal(typed.code, 1);
      assert.match(typed.stdout, /soci\.toml:1: metrics_address must be a string, not an integer/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
