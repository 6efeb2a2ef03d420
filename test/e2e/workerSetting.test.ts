// `lazyImages.worker.command` runs another worker; the extension reads its capabilities and hides
// the commands it does not offer.
import assert from 'node:assert/strict';
import { join } from 'node:path';
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

  before(async () => {
    registry = await startRegistry();
    const stores = new Stores();
    await copyImage(await sampleLayout(256 * 1024), 'sample', await stores.open(parseReference(`${registry.host}/demo/app:v1`)), 'v1');
    await stores.close();
    server = await startCodeServer({
      settings: {
        'lazyImages.registries': [registry.host],
        'lazyImages.worker.command': process.execPath,
        'lazyImages.worker.args': [join(__dirname, 'fixtures', 'limitedWorker.js')],
      },
    });
    bench = await Workbench.open(server, 'worker-setting');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await registry?.stop();
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
    assert.ok(asked.includes(`${process.execPath} ${join(__dirname, 'fixtures', 'limitedWorker.js')}`), `the whole command line is shown: ${asked}`);
    assert.match(asked, /your user settings/);
    const toast = await bench.notification(/is valid/);
    assert.match(toast, /4 blobs/);
    await bench.screenshot('verified');
    const entries = await menu();
    assert.ok(entries.includes('Check Digests'), entries.join(', '));
    assert.ok(!entries.includes('Copy Image To...'), `Copy is still offered: ${entries.join(', ')}`);
    assert.ok(!entries.includes('Convert to eStargz...'), `Convert is still offered: ${entries.join(', ')}`);
    assert.match(await server.extensionLog(), /Worker lazyimg-node-worker .*: inspect, verify/);
  });
});
