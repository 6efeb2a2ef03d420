// The snapshotter dashboard in a real VS Code, on real components: containerd v2.2.9 whose soci
// proxy plugin dials the daemon the extension itself starts (its managed folder), a registry with
// the sample image and its SOCI v2 index. Opened from the daemon's row (stopped, the failed check
// said), the daemon started from its button (version, socket, config, uptime with the PID that
// runs), a lazy pull from the palette and a file read through the FUSE mount make the bytes-fetched
// chart rise (read from the figures' data attributes, not pixels) and list the remote snapshots as
// containerd labelled them; hidden it is not refreshed and keeps its history; Stop shows it stopped
// by the next refresh; a window reload brings it back with its samples.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { PROFILES, fuseMountsUnder, managedPaths, runningPid } from '../../src/core/snapshotter/index.js';
import { daemonBinary, guardDaemons, leftMounts } from '../integration/fixtures/daemonTools.js';
import { daemonSteps, pushIndexedSample, readdirSafe, tearDown } from './fixtures/daemonRun.js';
import { freePort, startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startSnapshotters, type SnapshotterStack } from '../integration/fixtures/snapshotters.js';
import { requireCachedTool } from '../helpers/tools.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

const profile = PROFILES.soci;
const REPO = 'lazy/sample';
const TAG = 'v1-soci';
const TITLE = /^Snapshotter: soci$/;

describe('the snapshotter dashboard of the soci daemon the extension starts', { timeout: 420_000 }, () => {
  let registry: RegistryFixture;
  let stack: SnapshotterStack | undefined;
  let server: CodeServer;
  let bench: Workbench;
  let work: string;
  /** The managed daemon's folder; short, as the socket path must fit in 107 bytes. */
  let dir: string;
  const paths = () => managedPaths({ profile, dir });
  /** The samples the dashboard showed before the reload. */
  let samplesBeforeReload = 0;

  before(async () => {
    registry = await startRegistry();
    work = await pushIndexedSample(`${registry.host}/${REPO}`, TAG, 'lazyimg-e2e-dash-');
    dir = await mkdtemp('/tmp/lazyimg-dash-');
    guardDaemons()('soci', dir);
    // containerd first (soci reads its content store at start); its soci proxy plugin dials the
    // socket of the daemon the extension will start.
    stack = await startSnapshotters({ proxies: ['soci'], daemons: [], places: { soci: { socket: paths().socket, root: paths().root } } });
    const q = JSON.stringify;
    // Background fetch 20 s after the mount, so its chart has something to show, but only once the
    // test's read has fetched its span itself (a span fetched in the background first would leave
    // the synchronous registry fetches at zero).
    await writeFile(paths().config, [
      `metrics_address = ${q(`127.0.0.1:${await freePort()}`)}`,
      '[background_fetch]', 'silence_period_msec = 20000', 'fetch_period_msec = 100',
      '[content_store]', 'type = "containerd"', `containerd_address = ${q(stack.address)}`,
      '[pull_modes.soci_v2]', 'enable = true',
      '',
    ].join('\n'));
    server = await startCodeServer({
      settings: {
        'lazyImages.registries': [registry.host],
        'lazyImages.snapshotters.soci.binary': daemonBinary('soci'),
        'lazyImages.snapshotters.soci.dir': dir,
        'lazyImages.snapshotters.containerd.address': stack.address,
        'lazyImages.snapshotters.containerd.namespace': stack.namespace,
        'lazyImages.snapshotters.containerd.ctr': requireCachedTool('containerd-v2.2.9/ctr'),
      },
    });
    bench = await Workbench.open(server, 'dashboard');
  });
  // containerd first (after the browser and code-server), then the daemon, then the registry.
  after(() => tearDown(
    () => bench?.close(), () => server?.stop(), () => stack?.stop(),
    ...(dir ? daemonSteps(profile, dir, paths().root) : []),
    () => registry?.stop(), work !== undefined && (() => rm(work!, { recursive: true, force: true })),
  ));

  const daemonRow = (labels: string[]): string => labels.find((l) => /^soci\b/.test(l)) ?? '';
  /** The dashboard's page: found again each time, as VS Code makes a new one when it is shown again. */
  const dashboard = (): Promise<Frame> => bench.webview(TITLE);
  const condition = async (frame: Frame, wanted: string, timeout?: number): Promise<void> => {
    await frame.locator(`#condition[data-condition="${wanted}"]`).waitFor({ timeout });
  };
  /** A chart's latest value and sample count, as the page says them. */
  const chart = async (frame: Frame, name: string): Promise<{ latest: number; samples: number }> => {
    const figure = frame.locator(`figure[data-chart="${name}"]`);
    const [latest, samples] = await Promise.all([figure.getAttribute('data-latest'), figure.getAttribute('data-samples')]);
    return { latest: latest === null ? NaN : Number(latest), samples: Number(samples) };
  };
  const factRow = (frame: Frame, name: string) => frame.locator('table.facts tr', { has: frame.locator('th', { hasText: new RegExp(`^${name}$`) }) }).locator('td');

  it('opens from the daemon row: stopped, with the failed check and when it failed', async () => {
    await bench.waitForRows((l) => /stopped/.test(daemonRow(l)));
    await bench.contextMenu('soci', 'Show Snapshotter Dashboard');
    const frame = await dashboard();
    await condition(frame, 'stopped');
    const failed = frame.locator('table.checks tr[data-result="failed"]', { hasText: 'Snapshots API' });
    assert.match((await failed.textContent()) ?? '', /no such socket: the daemon is not running here/);
    assert.match((await frame.locator('.last-error').textContent()) ?? '', /^Last error, at .+: Snapshots API: .*no such socket/);
    assert.equal(await factRow(frame, 'socket').textContent(), paths().socket);
    assert.equal(await factRow(frame, 'config').textContent(), paths().config);
    await bench.screenshot('stopped');
  });

  it('starts the daemon from its button: running, with its version, uptime and PID, and charts at zero', async () => {
    let frame = await dashboard();
    await frame.locator('vscode-button[data-action="start"]').click();
    frame = await dashboard();
    await condition(frame, 'running');
    const pid = await runningPid(paths(), profile);
    assert.ok(pid, 'the daemon runs, with its PID in the folder');
    await bench.until(async () => /^\d+ (s|min) .*\(PID \d+, since/.test((await factRow(frame, 'uptime').textContent()) ?? ''), 'the uptime shows');
    assert.match((await factRow(frame, 'uptime').textContent()) ?? '', new RegExp(`\\(PID ${pid}, since`));
    // The cached build was made without version stamping.
    assert.match((await factRow(frame, 'version').textContent()) ?? '', /^unknown \(soci-snapshotter-grpc version <unknown>/);
    await bench.until(async () => (await chart(frame, 'fetched')).latest === 0, 'the bytes-fetched chart starts at zero');
    assert.equal((await chart(frame, 'registry')).latest, 0);
    await frame.locator('table.checks tr[data-result="ok"]', { hasText: 'Metrics' }).waitFor();
    assert.equal(await frame.locator('figure[data-chart="fetched"] canvas').count(), 1, 'uPlot drew the chart');
    await bench.screenshot('running');
  });

  it('a lazy pull and a file read make the bytes-fetched chart rise, and list the remote snapshots as containerd labelled them', async () => {
    const before = await chart(await dashboard(), 'fetched');
    await bench.runCommand('Lazy Images: Pull Lazily...');
    await bench.waitForPrompt(/Where is the image/);
    await bench.pick('Enter a reference...');
    await bench.waitForPrompt(/Image reference/);
    await bench.answer(`${registry.host}/${REPO}:${TAG}`);
    await bench.waitForPrompt(/Through which snapshotter/);
    await bench.pick('suggested');
    await bench.notification(/Pulled sample:v1-soci through soci: 3 of 3 layers mounted lazily/);
    // A read through the layer's FUSE mount is fetched on demand.
    const mounts = (await fuseMountsUnder(paths().root)).map((m) => m.mountPoint);
    const layer = mounts.find((m) => readdirSafe(join(m, 'opt', 'model')).includes('README'));
    assert.ok(layer, `no mount holds opt/model/README: ${mounts.join(', ')}`);
    assert.match(await readFile(join(layer, 'opt', 'model', 'README'), 'utf8'), /^Cold data/);

    const frame = await dashboard();
    let after = before;
    await bench.until(async () => (after = await chart(frame, 'fetched')).latest > before.latest, 'the bytes-fetched chart rose');
    assert.ok(after.samples > before.samples, `${after.samples} samples after, ${before.samples} before`);
    console.log(`bytes fetched: ${before.latest} before the pull, ${after.latest} after (${after.samples} samples)`);
    await bench.until(async () => (await chart(frame, 'registry')).latest > 0, 'the registry fetches rose');
    await bench.until(async () => (await chart(frame, 'background')).latest > 0, 'the background fetch ran', 90_000);
    console.log(`bytes fetched once the background fetch ran: ${(await chart(frame, 'fetched')).latest}`);

    // The remote snapshots, as containerd lists them for soci: its image and layer labels.
    const rows = frame.locator('table.snapshots tr', { has: frame.locator('td') });
    await bench.until(async () => (await rows.count()) === 3, 'three remote snapshots listed');
    for (const row of await rows.all()) {
      const key = (await row.locator('td').nth(3).getAttribute('title')) ?? '';
      const labels = await stack!.snapshotLabels('soci', key);
      assert.equal(labels['containerd.io/snapshot/remote'] !== undefined, true, key);
      assert.equal(await row.locator('td').nth(0).getAttribute('title'), labels['containerd.io/snapshot/cri.layer-digest']);
      assert.equal(await row.locator('td').nth(1).textContent(), labels['containerd.io/snapshot/cri.image-ref']);
      assert.equal(labels['containerd.io/snapshot/cri.image-ref'], `${registry.host}/${REPO}:${TAG}`);
    }
    assert.equal(await frame.locator('table.layers tr', { has: frame.locator('td') }).count(), 3);
    await bench.screenshot('after-pull');
    await frame.locator('figure[data-chart="fuse"]').scrollIntoViewIfNeeded();
    await bench.screenshot('after-pull-charts');
    await rows.last().scrollIntoViewIfNeeded();
    await bench.screenshot('after-pull-snapshots');
  });

  it('hidden, it is not refreshed and keeps its history; shown again from the palette, it is', async () => {
    const shown = await chart(await dashboard(), 'fetched');
    await bench.runCommand('File: New Untitled Text File');
    await bench.until(async () => /Snapshotter dashboard \(soci\): hidden: not refreshed/.test(await server.extensionLog()), 'the dashboard stops asking for reads when hidden');
    await bench.runCommand('Lazy Images: Show Snapshotter Dashboard');
    await bench.pick('soci');
    const frame = await dashboard();
    await condition(frame, 'running');
    const log = await server.extensionLog();
    assert.match(log.slice(log.lastIndexOf('hidden: not refreshed')), /Snapshotter dashboard \(soci\): refreshed every 5 s/);
    // A new page, filled from the host's history.
    const again = await chart(frame, 'fetched');
    assert.ok(again.samples >= shown.samples && again.latest >= shown.latest, `${JSON.stringify(again)} after, ${JSON.stringify(shown)} before hiding`);
  });

  it('Stop shows it stopped by the next refresh', async () => {
    let frame = await dashboard();
    await frame.locator('vscode-button[data-action="stop"]').click();
    // From the moment the daemon is gone, the dashboard has one refresh to say so.
    await bench.until(async () => (await runningPid(paths(), profile)) === undefined, 'the daemon stopped');
    const stopped = Date.now();
    frame = await dashboard();
    const refresh = Number(await frame.locator('#condition').getAttribute('data-refresh-ms'));
    assert.ok(refresh > 0, 'the page says how often it is refreshed');
    // Plus a few seconds: the read after the stop can queue behind a timer's read, which waits up to 2 s for gRPC.
    await condition(frame, 'stopped', refresh + 5000);
    console.log(`shown stopped ${Date.now() - stopped} ms after the daemon exited (refresh: ${refresh} ms)`);
    assert.deepEqual(await leftMounts(paths().root), []);
    assert.match((await frame.locator('.last-error').textContent()) ?? '', /Snapshots API: .*(no such socket|connection refused)/);
    samplesBeforeReload = (await chart(frame, 'fetched')).samples;
    await bench.screenshot('stopped-again');
  });

  it('comes back after a window reload with its samples', async () => {
    // The old page still has its workbench (and dashboard) until the new one loads: wait for the navigation.
    await Promise.all([bench.page.waitForEvent('framenavigated', (f) => f === bench.page.mainFrame()), bench.runCommand('Developer: Reload Window')]);
    await bench.page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    // Looked for again on each look: the page first drawn from the saved state can be replaced
    // (and its frame detached) when the host revives the panel and sets its page again.
    // More samples than before: the saved ones, taken back by the host, and its new reads.
    await bench.until(async () => {
      const frame = await dashboard();
      return (await frame.locator('#condition[data-condition="stopped"]').count().catch(() => 0)) > 0
        && (await chart(frame, 'fetched').catch(() => ({ samples: 0 }))).samples > samplesBeforeReload;
    }, 'the dashboard came back stopped, with its samples and more');
    await bench.screenshot('reloaded');
  });
});
