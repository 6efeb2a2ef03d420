// Pull Lazily... in a real VS Code, end to end on real components: a registry holding the sample
// image with a SOCI v2 index (lazyimg copy + index), containerd v2.2.9 whose soci proxy plugin
// points at the daemon the extension itself starts (its managed folder: `soci.sock`, `root/`).
// Stopped (red), Start (healthy), Pull Lazily... from the image's context menu (every layer
// remote-mounted, as the report in the output channel says), a file read through the FUSE mount
// (the metrics row moves), Stop (red). From the palette, no containerd, a stopped daemon and a
// missing ctr-remote are each said before anything runs, with the action that fixes it.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROFILES, fuseMountsUnder, managedPaths, runningPid } from '../../src/core/snapshotter/index.js';
import { requireCachedTool } from '../helpers/tools.js';
import { daemonBinary, guardDaemons, leftMounts } from '../integration/fixtures/daemonTools.js';
import { daemonSteps, pushIndexedSample, readdirSafe, tearDown } from './fixtures/daemonRun.js';
import { freePort, startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startSnapshotters, type SnapshotterStack } from '../integration/fixtures/snapshotters.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

const profile = PROFILES.soci;
const REPO = 'lazy/sample';
const TAG = 'v1-soci';
const README = 'Cold data: read rarely, so it is the part lazy pulling saves.\n';
const UNITS = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as const;

/** `fetched 1.50 MiB of 12.1 MiB` in the metrics row, in bytes (rounded as shown); NaN without the figure. */
function fetchedBytes(row: string): number {
  const m = /fetched ([\d.]+) (B|KiB|MiB|GiB) of/.exec(row);
  return m ? Number(m[1]) * UNITS[m[2] as keyof typeof UNITS] : NaN;
}

describe('Pull Lazily... through the soci daemon the extension starts', { timeout: 420_000 }, () => {
  let registry: RegistryFixture;
  let stack: SnapshotterStack | undefined;
  let server: CodeServer;
  let bench: Workbench;
  let work: string;
  /** The managed daemon's folder; short, as the socket path must fit in 107 bytes. */
  let dir: string;
  const root = (): string => managedPaths({ profile, dir }).root;
  const containerdLink = (): string => join(dir, 'containerd.sock');

  before(async () => {
    registry = await startRegistry();
    work = await pushIndexedSample(`${registry.host}/${REPO}`, TAG, 'lazyimg-e2e-pull-');

    dir = await mkdtemp('/tmp/lazyimg-pull-');
    guardDaemons()('soci', dir);
    server = await startCodeServer({
      settings: {
        'lazyImages.registries': [registry.host],
        'lazyImages.snapshotters.soci.binary': daemonBinary('soci'),
        'lazyImages.snapshotters.soci.dir': dir,
        'lazyImages.snapshotters.statusBar': 'soci',
        // A link to containerd's socket, made once it runs: until then, there is no containerd.
        'lazyImages.snapshotters.containerd.address': containerdLink(),
        'lazyImages.snapshotters.containerd.namespace': 'lazyimg-e2e',
        'lazyImages.snapshotters.containerd.ctr': requireCachedTool('containerd-v2.2.9/ctr'),
        'lazyImages.snapshotters.stargz.ctrRemote': join(dir, 'no-ctr-remote'),
      },
    });
    bench = await Workbench.open(server, 'pull-lazily');
  });
  // containerd first (after the browser and code-server), then the daemon, then the registry.
  after(() => tearDown(
    () => bench?.close(), () => server?.stop(), () => stack?.stop(),
    ...(dir ? daemonSteps(profile, dir, root()) : []),
    () => registry?.stop(), work !== undefined && (() => rm(work!, { recursive: true, force: true })),
  ));

  /** The daemon row's icon, and whether the theme draws it red or green (or neither). */
  const icon = async (): Promise<string> => {
    const style = (await bench.row('soci').locator('.custom-view-tree-node-item-icon').first().getAttribute('style')) ?? '';
    const [r = 0, g = 0] = (/rgb\((\d+), (\d+)/.exec(style) ?? []).slice(1).map(Number);
    return `${await bench.rowIcon('soci')} ${r > 2 * g ? 'red' : g > 2 * r ? 'green' : 'grey'}`;
  };
  const daemonRow = (labels: string[]): string => labels.find((l) => /^soci\b/.test(l)) ?? '';
  const metricsRow = (labels: string[]): string => labels.find((l) => l.startsWith('metrics ')) ?? '';
  /** Pull Lazily... from the Command Palette: a typed reference, then the daemon (the suggested one, or another). */
  const palettePull = async (daemon: 'suggested' | 'stargz'): Promise<void> => {
    await bench.runCommand('Lazy Images: Pull Lazily...');
    await bench.waitForPrompt(/Where is the image/);
    await bench.pick('Enter a reference...');
    await bench.waitForPrompt(/Image reference/);
    await bench.answer(`${registry.host}/${REPO}:${TAG}`);
    await bench.waitForPrompt(/Through which snapshotter/);
    await bench.pick(daemon);
  };

  it('shows the daemon stopped, in red', async () => {
    await bench.waitForRows((l) => /stopped/.test(daemonRow(l)));
    assert.match(await icon(), /^error red$/);
    await bench.screenshot('stopped');
  });

  it("with no containerd yet, the palette's pull says so before anything runs, with Open Settings", async () => {
    await palettePull('suggested');
    await bench.notificationButton(new RegExp(`Cannot pull lazily: containerd's socket ${containerdLink()} does not exist: is containerd running\\?`), 'Open Settings');
    // The machine setting itself shows: in a remote window (code-server) that is the Remote tab.
    await bench.page.locator('.settings-editor .setting-item-contents', { hasText: /Containerd: Address/ }).first().waitFor();
    await bench.screenshot('no-containerd');
    await bench.runCommand('View: Close All Editors');
    await bench.page.locator('.settings-editor').waitFor({ state: 'detached' });
  });

  it('starts it from the row: healthy, in green, with metrics and no remote snapshot yet', async () => {
    // containerd first (soci reads its content store at start), alone: its soci proxy plugin dials
    // the socket the extension's daemon listens on.
    const paths = managedPaths({ profile, dir });
    stack = await startSnapshotters({ proxies: ['soci'], daemons: [], places: { soci: { socket: paths.socket, root: paths.root } } });
    await symlink(stack.address, containerdLink());
    const q = JSON.stringify;
    // No background fetch: what the metrics count is what was read.
    await writeFile(paths.config, [
      `metrics_address = ${q(`127.0.0.1:${await freePort()}`)}`,
      '[background_fetch]', 'disable = true',
      '[content_store]', 'type = "containerd"', `containerd_address = ${q(stack.address)}`,
      '[pull_modes.soci_v1]', 'enable = false',
      '[pull_modes.soci_v2]', 'enable = true',
      '',
    ].join('\n'));
    await bench.contextMenu('soci', 'Start Snapshotter');
    await bench.waitForRows((l) => /running · healthy/.test(daemonRow(l)));
    assert.match(await icon(), /^pass-filled green$/);
    await bench.expand('soci');
    const rows = await bench.waitForRows((l) => /fetched \d/.test(metricsRow(l)) && l.some((x) => /^remote snapshots 0 snapshots/.test(x)));
    assert.match(metricsRow(rows), /fetched 0 B of 0 B/);
    await bench.screenshot('healthy');
  });

  it('pulls the registry image from its context menu: soci suggested, every layer remote-mounted, the report in the output channel', async () => {
    await bench.expand(registry.host);
    await bench.expand(REPO);
    await bench.contextMenu(TAG, 'Pull Lazily...');
    await bench.waitForPrompt(/Through which snapshotter/);
    const choices = (await bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents()).map((c) => c.replace(/\s+/g, ' ').trim());
    assert.match(choices[0] ?? '', /^soci ?3 of 3 layers predicted lazy \(suggested\)$/, choices.join('\n'));
    // A reused row may still hold the palette's separator label after its own text.
    assert.match(choices[1] ?? '', /^stargz ?0 of 3 layers predicted lazy(?! \()/, choices.join('\n'));
    await bench.pick('suggested');
    const said = await bench.notificationButton(/Pulled sample:v1-soci through soci/, 'Show Report');
    assert.match(said, /Pulled sample:v1-soci through soci: 3 of 3 layers mounted lazily/);
    await bench.runCommand('View: Toggle Maximized Panel');
    let report = '';
    await bench.until(async () => /3 of 3 layers mounted lazily/.test(report = await bench.outputText().catch(() => '')), 'the report shows in the output channel');
    // The output view wraps long lines: the header may take two.
    assert.match(report.replace(/\s*\n\s*/g, ' '), new RegExp(`Pulled ${registry.host}/${REPO}:${TAG} \\(sha256:[0-9a-f]{64}\\) through soci`));
    const layers = report.split('\n').filter((l) => /^layer \d/.test(l));
    assert.equal(layers.length, 3, report);
    for (const l of layers) assert.match(l, /^layer [123] sha256:[0-9a-f]{64}: remote-mounted \(lazy\)$/);
    const mounts = report.split('\n').filter((l) => /^\s+mount: /.test(l));
    assert.equal(mounts.length, 3, report);
    for (const m of mounts) assert.ok(m.includes(`mount: ${root()}/`) && /fetched at mount: [\d.]+ (B|KiB|MiB) of /.test(m), m);
    assert.doesNotMatch(report, /MISMATCH/);
    await bench.screenshot('report');
    await bench.runCommand('View: Toggle Maximized Panel');
    await bench.waitForRows((l) => l.some((x) => /^remote snapshots 3 snapshots/.test(x)));
    // Each remote snapshot names its image and its layer, from the labels the pull passed.
    await bench.expand('remote snapshots');
    const snapshots = (await bench.waitForRows((l) => l.filter((x) => x.includes(`${REPO}:${TAG}`)).length === 3)).filter((x) => x.includes(`${REPO}:${TAG}`));
    for (const row of snapshots) assert.match(row, new RegExp(`^layer sha256:[0-9a-f]{12} ${registry.host}/${REPO}:${TAG}$`), snapshots.join('\n'));
    await bench.screenshot('remote-snapshots');
  });

  it('a file read through the FUSE mount moves the metrics summary up', async () => {
    const before = fetchedBytes(metricsRow(await bench.waitForRows((l) => /fetched [\d.]+ (B|KiB|MiB) of [1-9]/.test(metricsRow(l)))));
    // The layer that holds /opt/model: the mount of the daemon's remote snapshot, as the kernel lists it.
    const mounts = (await fuseMountsUnder(root())).map((m) => m.mountPoint);
    assert.equal(mounts.length, 3, `one FUSE mount per layer under ${root()}: ${mounts.join(', ')}`);
    const layer = mounts.find((m) => readdirSafe(join(m, 'opt', 'model')).includes('README'));
    assert.ok(layer, `no mount holds opt/model/README: ${mounts.join(', ')}`);
    assert.equal(await readFile(join(layer, 'opt', 'model', 'README'), 'utf8'), README);
    const rows = await bench.waitForRows((l) => fetchedBytes(metricsRow(l)) > before);
    assert.ok(fetchedBytes(metricsRow(rows)) > before, metricsRow(rows));
    await bench.screenshot('metrics-moved');
  });

  it('stops it: red again, its FUSE mounts gone', async () => {
    await bench.contextMenu('soci', 'Stop Snapshotter');
    await bench.waitForRows((l) => /stopped/.test(daemonRow(l)));
    assert.match(await icon(), /^error red$/);
    assert.equal(await runningPid(managedPaths({ profile, dir }), profile), undefined);
    assert.deepEqual(await leftMounts(root()), []);
    await bench.screenshot('stopped-again');
  });

  it('from the palette, with a typed reference: the stopped daemon is said, with Start Snapshotter', async () => {
    await palettePull('suggested');
    const said = await bench.notification(/Cannot pull lazily: the soci snapshotter does not answer/);
    assert.match(said, /Start Snapshotter/);
    await bench.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: 'Start Snapshotter' }).waitFor();
    await bench.screenshot('daemon-stopped');
  });

  it('through stargz, whose ctr-remote is missing: said before anything runs, with Open Settings', async () => {
    await palettePull('stargz');
    const said = await bench.notification(new RegExp(`Cannot pull lazily: ${join(dir, 'no-ctr-remote')} \\(lazyImages\\.snapshotters\\.stargz\\.ctrRemote\\) is not an executable file`));
    assert.match(said, /Open Settings/);
    await bench.screenshot('no-ctr-remote');
  });
});
