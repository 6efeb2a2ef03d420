/// <reference lib="dom" />
// A copy job on the worker, from the tree's context menu in a real VS Code: watch its progress
// notification, press Cancel, see it listed as cancelled with nothing left behind; run it again
// to completion. The registry sits behind a slow link so there is time to press Cancel.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyImage } from '../../src/core/jobs/index.js';
import { Stores } from '../../src/core/image/index.js';
import { parseReference, writeImage } from '../../src/core/oci/index.js';
import { pseudoRandom } from '../../scripts/sampleImage.js';
import { tempLayout } from '../helpers/images.js';
import type { FakeServer } from '../integration/fixtures/fakeServer.js';
import { startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startRegistryProxy } from '../integration/fixtures/registryProxy.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

const LAYER = 40 * 1024 * 1024;

describe('copy jobs on the worker, from the Lazy Images view', { timeout: 300_000 }, () => {
  let registry: RegistryFixture;
  let slow: FakeServer;
  let server: CodeServer;
  let bench: Workbench;
  let destination: string;

  before(async () => {
    registry = await startRegistry();
    const layout = await tempLayout();
    await writeImage(layout, [{ entries: [{ name: 'data.bin', type: 'file', content: { size: LAYER, stream: () => pseudoRandom('slow', LAYER) } }] }], { tag: 'v1', gzipLevel: 1 });
    const stores = new Stores();
    await copyImage(layout, 'v1', await stores.open(parseReference(`${registry.host}/slow/app:v1`)), 'v1');
    await stores.close();
    // 10 s for the layer: time for a screenshot and the click on Cancel on a loaded machine.
    slow = await startRegistryProxy(registry.host, { bytesPerSecond: 4 * 1024 * 1024 });
    server = await startCodeServer({ settings: { 'lazyImages.registries': [slow.host] } });
    destination = join(server.workspace, 'copies', 'app');
    bench = await Workbench.open(server, 'jobs');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await slow?.close();
    await registry?.stop();
  });

  const startCopy = async (): Promise<void> => {
    await bench.contextMenu('v1', 'Copy Image To...');
    assert.match(await bench.prompt(), /Destination/);
    await bench.answer(`oci:${destination}:v1`);
  };

  it('shows the copy in a progress notification, and Cancel stops it with nothing left behind', async () => {
    await bench.expand(slow.host);
    await bench.expand('slow/app');
    await bench.expand('v1');
    await startCopy();
    const toast = bench.page.locator('.notifications-toasts .notification-toast', { hasText: 'Copy ' });
    await toast.locator('.notification-list-item-message', { hasText: /layer 1\/1: .* of 40\.\d MiB/ }).waitFor();
    await bench.screenshot('progress');
    await toast.locator('a.monaco-button', { hasText: 'Cancel' }).click();
    const rows = await bench.waitForRows((labels) => labels.some((l) => /^Copy .* cancelled · [\d.]+ s · 127\.0\.0\.1:\d+$/.test(l)));
    assert.ok(rows.includes('Jobs'));
    await bench.screenshot('cancelled');
    const index = JSON.parse(await readFile(join(destination, 'index.json'), 'utf8')) as { manifests: unknown[] };
    assert.deepEqual(index.manifests, [], 'no manifest after a cancelled copy');
    assert.deepEqual((await readdir(destination)).filter((n) => n.startsWith('.lazyimg-tmp-')), [], 'no temporary file');
  });

  it('runs the copy again to completion', async () => {
    await startCopy();
    await bench.waitForRows((labels) => labels.some((l) => /^Copy .* succeeded · [\d.]+ s · 127\.0\.0\.1:\d+$/.test(l)));
    await bench.screenshot('succeeded');
    const index = JSON.parse(await readFile(join(destination, 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
    assert.deepEqual(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']), ['v1']);
    const labels = await bench.rowLabels();
    assert.ok(labels.some((l) => /cancelled/.test(l)) && labels.some((l) => /succeeded/.test(l)), 'both runs stay listed');
    // Each ending has its own themed icon.
    const icon = (status: string) => bench.view().locator('.monaco-list-row', { hasText: status }).locator('.custom-view-tree-node-item-icon').getAttribute('class');
    assert.match(await icon('succeeded') ?? '', /codicon-pass\b/);
    assert.match(await icon('cancelled') ?? '', /codicon-circle-slash\b/);
  });
});
