// `lazyImages.worker.command` runs another worker; the extension reads its capabilities and hides
// the commands it does not offer.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyImage } from '../../src/core/jobs/index.js';
import { Stores } from '../../src/core/image/index.js';
import { parseReference } from '../../src/core/oci/index.js';
import { sampleLayout } from '../helpers/images.js';
import { startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

describe('a configured worker with fewer capabilities', { timeout: 240_000 }, () => {
  let registry: RegistryFixture;
  let server: CodeServer;
  let bench: Workbench;
  let gate: string;

  before(async () => {
    gate = join(await mkdtemp(join(tmpdir(), 'lazyimg-gate-')), 'hold');
    registry = await startRegistry();
    const stores = new Stores();
    await copyImage(await sampleLayout(256 * 1024), 'sample', await stores.open(parseReference(`${registry.host}/demo/app:v1`)), 'v1');
    await stores.close();
    server = await startCodeServer({
      settings: {
        'lazyImages.registries': [registry.host],
        'lazyImages.worker.command': process.execPath,
        'lazyImages.worker.args': [join(__dirname, 'fixtures', 'limitedWorker.js'), '--hold-while', gate],
      },
    });
    bench = await Workbench.open(server, 'worker-setting');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await registry?.stop();
    await rm(dirname(gate), { recursive: true, force: true });
  });

  const menu = (): Promise<string[]> => bench.menuEntries('v1');

  it('runs the configured worker and hides Copy and Convert once it knows the worker offers neither', async () => {
    await bench.expand(registry.host);
    await bench.expand('demo/app');
    await bench.row('v1').waitFor();
    const before = await menu();
    assert.ok(before.includes('Copy Image To...') && before.includes('Convert to eStargz...'), 'before the worker has started, its commands show');
    await bench.contextMenu('v1', 'Check Digests');
    const asked = await bench.dialog(/Run a custom Lazy Images worker/, 'Allow');
    assert.ok(asked.includes(`${process.execPath} ${join(__dirname, 'fixtures', 'limitedWorker.js')} --hold-while ${gate}`), `the whole command line is shown: ${asked}`);
    assert.match(asked, /your user settings/);
    const toast = await bench.notification(/is valid/);
    assert.match(toast, /4 blobs/);
    await bench.screenshot('verified');
    const entries = await menu();
    assert.ok(entries.includes('Check Digests'), entries.join(', '));
    assert.ok(!entries.includes('Copy Image To...'), `Copy is still offered: ${entries.join(', ')}`);
    assert.ok(!entries.includes('Convert to eStargz...'), `Convert is still offered: ${entries.join(', ')}`);
    assert.ok(!entries.includes('Optimize for Startup...'), `Optimize is still offered: ${entries.join(', ')}`);
    assert.ok(!entries.includes('Index Many...') && !entries.includes('Convert Many...'), `the batch commands are still offered: ${entries.join(', ')}`);
    assert.ok(entries.includes('Export as Kubernetes Job...'), `exporting a Job needs no worker: ${entries.join(', ')}`);
    assert.match(await server.extensionLog(), /Worker lazyimg-node-worker .*: inspect, verify/);
  });

  it('asks before a settings change stops a running job, and lets it finish', async () => {
    await writeFile(gate, 'hold the next job result');
    await bench.contextMenu('v1', 'Check Digests');
    await bench.until(async () => /Job 2 started/.test(await server.extensionLog()), 'the job started');
    await mkdir(join(server.workspace, '.vscode'), { recursive: true });
    await writeFile(join(server.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'lazyImages.worker.maxConcurrentJobs': 3 }));
    const asked = await bench.notification(/worker settings changed/).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await server.extensionLog()}`);
    });
    assert.match(asked, /1 job still runs on the old worker/);
    await bench.screenshot('settings-changed');
    await bench.page.locator('.notifications-toasts .notification-toast', { hasText: /worker settings changed/ }).locator('.monaco-button', { hasText: 'Let Them Finish' }).click();
    await rm(gate);
    await bench.until(async () => /Job 2 succeeded/.test(await server.extensionLog()), 'the job finished on the old worker');
    await bench.until(async () => /Worker stopped: /.test(await server.extensionLog()), 'the old worker left with its last job');
  });
});
