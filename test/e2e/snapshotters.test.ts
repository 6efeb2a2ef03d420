// The Snapshotters section against a real soci-snapshotter-grpc: stopped (red), started from the
// row's menu (green, a version, a socket, metrics from a real scrape), stopped again, and its
// config.toml checked on save with the diagnostic on the broken line.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROFILES, runningPid, managedPaths, stopDaemon } from '../../src/core/snapshotter/index.js';
import { daemonBinary, guardDaemons, leftMounts } from '../integration/fixtures/daemonTools.js';
import { freePort } from '../integration/fixtures/registry.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

const profile = PROFILES.soci;

describe('the Snapshotters section with a managed soci daemon', { timeout: 300_000 }, () => {
  let server: CodeServer;
  let bench: Workbench;
  let dir: string;
  let port: number;

  before(async () => {
    // Short: the socket path must fit in 107 bytes.
    dir = await mkdtemp('/tmp/lazyimg-snap-');
    guardDaemons()('soci', dir);
    port = await freePort();
    await writeFile(join(dir, 'config.toml'), `metrics_address = "127.0.0.1:${port}"\n`);
    await writeFile(join(dir, 'containerd.toml'), 'version = 2\n');
    server = await startCodeServer({
      settings: {
        'lazyImages.snapshotters.soci.binary': daemonBinary('soci'),
        'lazyImages.snapshotters.soci.dir': dir,
        'lazyImages.snapshotters.statusBar': 'soci',
        'lazyImages.snapshotters.containerdConfig': join(dir, 'containerd.toml'),
      },
    });
    bench = await Workbench.open(server, 'snapshotters');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await stopDaemon({ profile, dir });
    assert.deepEqual(await leftMounts(join(dir, 'root')), []);
    await rm(dir, { recursive: true, force: true });
  });

  /** The daemon row's icon, and whether the theme draws it red or green (or neither). */
  const icon = async (): Promise<string> => {
    const style = (await bench.row('soci').locator('.custom-view-tree-node-item-icon').first().getAttribute('style')) ?? '';
    const [r = 0, g = 0] = (/rgb\((\d+), (\d+)/.exec(style) ?? []).slice(1).map(Number);
    return `${await bench.rowIcon('soci')} ${r > 2 * g ? 'red' : g > 2 * r ? 'green' : 'grey'}`;
  };
  const daemonRow = (labels: string[]): string => labels.find((l) => /^soci\b/.test(l)) ?? '';

  it('shows the daemon installed but stopped, in red', async () => {
    const labels = await bench.waitForRows((l) => /stopped/.test(daemonRow(l)));
    assert.ok(labels.some((l) => l.startsWith('Snapshotters')), labels.join('\n'));
    // The cached build was made without version stamping: `--version` says `<unknown>`.
    assert.match(daemonRow(labels), /version unknown · stopped · managed/);
    await bench.until(async () => /Snapshotter statuses: read every 5 s/.test(await server.extensionLog()), 'the statuses are read on a timer while shown');
    assert.match(await icon(), /^error red$/);
    assert.match(await bench.statusBar(/soci stopped/), /soci stopped/);
    await bench.screenshot('stopped');
  });

  it('starts it from the row: healthy in green, with its version, socket and metrics', async () => {
    await bench.contextMenu('soci', 'Start Snapshotter');
    const labels = await bench.waitForRows((l) => /running · healthy/.test(daemonRow(l)));
    assert.match(daemonRow(labels), /version unknown · running · healthy · managed/);
    assert.match(await icon(), /^pass-filled green$/);
    assert.ok(await runningPid(managedPaths({ profile, dir }), profile), 'the daemon runs, with its PID in the folder');
    await bench.expand('soci');
    const parts = await bench.waitForRows((l) => l.some((x) => /^metrics .*fetched \d/.test(x)));
    assert.ok(parts.some((l) => l.startsWith(`socket ${join(dir, 'soci.sock')}`)), parts.join('\n'));
    assert.ok(parts.some((l) => l.startsWith(`config ${join(dir, 'config.toml')}`)), parts.join('\n'));
    assert.match(parts.find((l) => l.startsWith('metrics')) ?? '', /fetched 0 B of 0 B · 0 registry fetches · 0 reads/);
    assert.ok(parts.some((l) => /^remote snapshots 0 snapshots/.test(l)), parts.join('\n'));
    assert.doesNotMatch(await bench.statusBar(/soci/), /stopped/);
    await bench.screenshot('healthy');
  });

  it('follows its log in an output channel', async () => {
    await bench.contextMenu('soci', 'Show Snapshotter Logs');
    const output = bench.page.locator('.part.panel .monaco-editor .view-lines');
    await output.filter({ hasText: `Following ${join(dir, 'soci.log')}` }).waitFor();
    await output.filter({ hasText: '"level":"info"' }).waitFor();
    await bench.screenshot('logs');
  });

  it('stops it: red again, and nothing of it runs', async () => {
    await bench.contextMenu('soci', 'Stop Snapshotter');
    await bench.waitForRows((l) => /stopped/.test(daemonRow(l)));
    assert.match(await icon(), /^error red$/);
    assert.equal(await runningPid(managedPaths({ profile, dir }), profile), undefined);
    await bench.screenshot('stopped-again');
  });

  it("offers the proxy plugin's TOML when containerd's config lacks it", async () => {
    await bench.contextMenu('soci', 'Check containerd Wiring');
    const text = await bench.dialog(/not wired to the soci snapshotter/, 'Copy Snippet');
    assert.match(text, /no \[proxy_plugins\] entry points at/);
    // The browser's clipboard is written after the dialog closes.
    let snippet = '';
    await bench.until(async () => (snippet = await bench.clipboard()) !== '', 'the snippet reached the clipboard');
    assert.match(snippet, /^\[proxy_plugins\.soci\]\n {2}type = "snapshot"\n/);
    assert.ok(snippet.includes(`address = "${join(dir, 'soci.sock')}"`), snippet);
    assert.ok(snippet.includes(`root = "${join(dir, 'root')}"`), snippet);
    assert.ok(snippet.includes('enable_remote_snapshot_annotations = "true"'), snippet);
  });

  it('checks the config on save, with the diagnostic on the broken line', async () => {
    await bench.contextMenu('soci', 'Open Snapshotter Config');
    await bench.page.locator('.editor-group-container.active .tab.active', { hasText: 'config.toml' }).waitFor();
    await bench.waitForEditorText(/metrics_address/);
    await bench.page.locator('.editor-group-container.active .monaco-editor .view-lines').click();
    await bench.page.keyboard.press('Control+End');
    await bench.page.keyboard.type('max_concurrency = true');
    await bench.page.keyboard.press('Control+S');
    await bench.page.keyboard.press('Control+Shift+M');
    const problem = bench.page.locator('.markers-panel .monaco-list-row', { hasText: 'max_concurrency must be an integer' }).first();
    await problem.waitFor();
    assert.match((await problem.textContent()) ?? '', /\[Ln 2, Col 1\]/);
    await bench.screenshot('config-diagnostic');
  });

  it('stops reading statuses once nothing shows them', async () => {
    // A display preference, not a program to run: a workspace may turn it off.
    await mkdir(join(server.workspace, '.vscode'), { recursive: true });
    await writeFile(join(server.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lazyImages.snapshotters.statusBar': 'off' }));
    await bench.page.locator('.part.statusbar [id$="lazyImages.snapshotter"]').waitFor({ state: 'hidden' });
    await bench.page.locator('.pane-header', { hasText: 'Lazy Images' }).click();
    await bench.until(async () => /Snapshotter statuses: no longer read/.test(await server.extensionLog()), 'the timer stops with the view collapsed and no status bar item');
  });
});
