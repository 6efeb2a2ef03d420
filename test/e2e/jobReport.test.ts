/// <reference lib="dom" />
// The job report in a real VS Code. A conversion of a workspace layout ends; Show Report in its
// notification opens the report, whose layer digests are those `lazyimg inspect --json` reads from
// the new image; Copy puts the new reference on the clipboard, and Copy To... copies that image.
// An index job's report shows the zTOCs inspect finds. Then a conversion from a registry whose big
// layer stalls after its first MiB is cancelled once the two small layers are pushed: its report
// lists as kept exactly the blobs the registry gained, says that no manifest and no tag were
// written, and survives a window reload.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { writeSampleImage } from '../../scripts/sampleImage.js';
import { Stores } from '../../src/core/image/index.js';
import { copyImage } from '../../src/core/jobs/index.js';
import { OciLayoutStore, parseReference } from '../../src/core/oci/index.js';
import { tempLayout } from '../helpers/images.js';
import { runCli } from '../integration/fixtures/cli.js';
import type { FakeServer } from '../integration/fixtures/fakeServer.js';
import { startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startRegistryProxy } from '../integration/fixtures/registryProxy.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

/** The bytes of the big layer the stalling proxy lets through before it holds the rest back. */
const STALL_AFTER = 1024 * 1024;

interface LayerCells {
  layer: string;
  made: string;
  time: string;
  rate: string;
}

/** The layer table as the webview shows it: each row's source digest, and the text of its cells. */
function layerRows(frame: Frame): Promise<LayerCells[]> {
  return frame.locator('table.layers tbody tr').evaluateAll((rows) => rows.map((r) => ({
    layer: r.querySelector('td.digest')?.textContent ?? '',
    made: r.querySelector('td.made')?.textContent ?? '',
    time: r.querySelector('td.time')?.textContent ?? '',
    rate: r.querySelector('td.rate')?.textContent ?? '',
  })));
}

/** The layer digests of an image, as the real CLI's `inspect --json` reads them. */
async function inspectedLayers(reference: string): Promise<string[]> {
  const out = await runCli(['inspect', '--json', reference]);
  assert.equal(out.code, 0, out.stderr);
  return (JSON.parse(out.stdout) as { manifests: Array<{ layers: Array<{ digest: string }> }> }).manifests[0]!.layers.map((l) => l.digest);
}

describe('the job report', { timeout: 300_000 }, () => {
  let registry: RegistryFixture;
  let stalling: FakeServer;
  let server: CodeServer;
  let bench: Workbench;
  let layout: string;
  let bigLayer: string;

  before(async () => {
    registry = await startRegistry();
    const source = await tempLayout();
    const written = await writeSampleImage(source, 'v1', 16 * 1024 * 1024);
    bigLayer = written.layers[1]!.digest;
    const stores = new Stores();
    await copyImage(source, 'v1', await stores.open(parseReference(`${registry.host}/stall/app:v1`)), 'v1');
    await stores.close();
    stalling = await startRegistryProxy(registry.host, { intercept: (url, req, res) => stall(registry.host, url, req, res) });
    server = await startCodeServer({
      settings: { 'lazyImages.registries': [stalling.host] },
      prepareWorkspace: async (dir) => {
        layout = join(dir, 'images', 'app');
        await writeSampleImage(await OciLayoutStore.open(layout, { create: true }), 'v1', 4 * 1024 * 1024);
      },
    });
    bench = await Workbench.open(server, 'jobReport');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await stalling?.close();
    await registry?.stop();
  });

  /**
   * A full GET of the big layer gets its first MiB, then nothing until the client gives up: the
   * conversion cannot end by itself. Range reads (the tree's look at the layers) pass.
   */
  function stall(upstream: string, url: URL, req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' || req.headers.range !== undefined || !url.pathname.endsWith(`/blobs/${bigLayer}`)) return false;
    const [host, port] = upstream.split(':');
    const forward = request({ host, port: Number(port), path: url.pathname, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        if (sent < STALL_AFTER) res.write(chunk);
        sent += chunk.length;
        if (sent >= STALL_AFTER) answer.pause();
      });
    });
    res.on('close', () => forward.destroy());
    forward.end();
    return true;
  }

  const startConvert = async (image: string): Promise<void> => {
    await bench.contextMenu(image, 'Convert to eStargz...');
    await bench.waitForPrompt(/Enter starts with these options/);
    await bench.pick('Convert');
  };

  it('opens from the notification of a finished conversion, with the new image\'s layers, their times and the new references', async () => {
    await bench.expand('images/app');
    await startConvert('v1');
    await bench.notificationButton(/Converted to eStargz: .*images\/app:v1-esgz \(3 layers\)/, 'Show Report');
    const frame = await bench.webview(/^Job report: Convert oci:.*images\/app:v1 to eStargz/);
    await frame.locator('table.layers tbody tr').nth(2).waitFor();
    const rows = await layerRows(frame);
    assert.deepEqual(rows.map((r) => r.layer), await inspectedLayers(`oci:${layout}:v1`));
    assert.deepEqual(rows.map((r) => r.made), await inspectedLayers(`oci:${layout}:v1-esgz`));
    assert.ok(rows.every((r) => /^\d+\.\d\d s$/.test(r.time) && /^[\d.]+ (B|KiB|MiB|GiB)\/s$/.test(r.rate)), JSON.stringify(rows));
    assert.equal(await frame.locator('.outcome').getAttribute('data-status'), 'succeeded');
    await bench.screenshot('converted');

    // Copy: the tag's reference, on the clipboard.
    const tagged = `oci:${layout}:v1-esgz`;
    await frame.locator(`tr[data-reference="${tagged}"] vscode-button[data-action="copy"]`).click();
    await bench.until(async () => (await bench.clipboard()) === tagged, `the clipboard never held ${tagged}`);
  });

  it('runs Copy Image To... on the reference its button is beside', async () => {
    const frame = await bench.webview(/^Job report: Convert oci:.*images\/app:v1 to eStargz/);
    const byDigest = await frame.locator('tr[data-reference*="@sha256:"]').getAttribute('data-reference');
    assert.match(byDigest ?? '', /^oci:.*images\/app@sha256:[0-9a-f]{64}$/);
    await frame.locator(`tr[data-reference="${byDigest}"] vscode-button[data-action="copyTo"]`).click();
    assert.match(await bench.prompt(), new RegExp(`Copy ${byDigest!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    const copies = join(server.workspace, 'copies', 'app');
    await bench.answer(`oci:${copies}:copied`);
    await bench.waitForRows((labels) => labels.some((l) => /^Copy app@[0-9a-f]{12} → app:copied succeeded · /.test(l)));
    assert.deepEqual(await inspectedLayers(`oci:${copies}:copied`), await inspectedLayers(`oci:${layout}:v1-esgz`));
  });

  it('opens again from the Jobs node\'s Show Result', async () => {
    await bench.contextMenu(/^eStargz app:v1 → v1-esgz/, 'Show Result');
    const frame = await bench.webview(/^Job report: Convert oci:.*images\/app:v1 to eStargz/);
    assert.equal((await layerRows(frame)).length, 3);
  });

  it('shows an index job\'s zTOCs, the layers it skipped, and its SOCI index, as inspect finds them in the new image', async () => {
    await bench.contextMenu('v1', 'Build SOCI Index...');
    await bench.waitForPrompt(/Build a SOCI index for app:v1 \| .*Enter starts with these options/);
    await bench.pick('Minimum layer size');
    await bench.waitForPrompt(/minimum layer size/);
    await bench.answer('1 MiB');
    await bench.waitForPrompt(/Enter starts with these options/);
    await bench.pick('Build');
    await bench.notificationButton(/Built SOCI index v2 for .*images\/app:v1 at .*images\/app:v1-soci: 1 zTOC/, 'Show Report');
    const frame = await bench.webview(/^Job report: Build a SOCI index v2 for oci:.*images\/app:v1 at /);
    await frame.locator('table.layers tbody tr').nth(2).waitFor();
    const out = await runCli(['inspect', '--json', `oci:${layout}:v1-soci`]);
    assert.equal(out.code, 0, out.stderr);
    const image = (JSON.parse(out.stdout) as { manifests: Array<{ soci?: Array<{ index: string }>; layers: Array<{ digest: string; soci?: { ztoc: string } }> }> }).manifests.find((m) => m.soci)!;
    const rows = await layerRows(frame);
    assert.deepEqual(rows.map((r) => r.layer), image.layers.map((l) => l.digest));
    assert.deepEqual(rows.map((r) => r.made), image.layers.map((l) => l.soci?.ztoc ?? ''));
    assert.match(rows[1]!.time, /^\d+\.\d\d s$/);
    assert.deepEqual([rows[0]!.time, rows[2]!.time], ['—', '—'], 'no time for a layer that got no zTOC');
    assert.equal(await frame.locator('code.index').textContent(), image.soci![0]!.index);
    await bench.screenshot('indexed');
  });

  it('says of a cancelled conversion which blobs it left in the registry and that it wrote no manifest or tag', async () => {
    const links = join(registry.storage, 'docker', 'registry', 'v2', 'repositories', 'stall', 'app', '_layers', 'sha256');
    const before = new Set(await readdir(links));
    const added = async (): Promise<string[]> => (await readdir(links)).filter((d) => !before.has(d)).sort();

    await bench.collapse('images/app'); // its v1 is another row of that name
    await bench.expand(stalling.host);
    await bench.expand('stall/app');
    await startConvert('v1');
    const toast = bench.page.locator('.notifications-toasts .notification-toast', { hasText: 'to eStargz at' });
    await toast.locator('.notification-list-item-message', { hasText: /layer 2\/3: .* of 16\.0 MiB/ }).waitFor();
    // Layers 1 and 3 run beside the stalled one: cancel once both are pushed.
    await bench.until(async () => (await added()).length === 2, 'the two small eStargz layers never reached the registry');
    await toast.locator('a.monaco-button', { hasText: 'Cancel' }).click();
    await bench.notificationButton(/Convert .*stall\/app:v1 to eStargz at .*: cancelled\./, 'Show Report');

    const frame = await bench.webview(/^Job report: Convert .*stall\/app:v1 to eStargz/);
    await frame.locator('.left').waitFor();
    assert.equal(await frame.locator('.outcome').getAttribute('data-status'), 'cancelled');
    const kept = await frame.locator('table.kept tbody tr').evaluateAll((rows) => rows.map((r) => [r.children[0]?.textContent, r.getAttribute('data-digest')]));
    assert.deepEqual(kept.map(([what]) => what), ['eStargz layer', 'eStargz layer']);
    assert.deepEqual(kept.map(([, digest]) => digest!.slice(7)).sort(), await added(), 'the blobs kept are those the registry gained');
    const cleaned = await frame.locator('.cleaned li').allTextContents();
    assert.ok(cleaned.some((c) => /temporary files and folders.*removed/.test(c)), cleaned.join('\n'));
    assert.ok(cleaned.some((c) => /No manifest and no tag were written/.test(c)), cleaned.join('\n'));
    // The big layer was read no further than the proxy let it.
    const rows = await layerRows(frame);
    assert.equal(rows[1]?.layer, bigLayer);
    const read = await frame.locator('table.layers tbody tr').nth(1).locator('td').nth(3).textContent();
    assert.match(read ?? '', /^[\d.]+ (KiB|MiB) \(\d%\)$/);
    await bench.screenshot('cancelled');

    const tags = (await (await fetch(`http://${registry.host}/v2/stall/app/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['v1'], 'no tag for the cancelled conversion');
  });

  it('shows the same report after a window reload, from what the webview saved', async () => {
    // As the command does it: the window saves its state (its editors, each webview's) before it goes.
    await Promise.all([bench.page.waitForEvent('framenavigated', (f) => f === bench.page.mainFrame()), bench.runCommand('Developer: Reload Window')]);
    await bench.page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    const frame = await bench.webview(/^Job report: Convert .*stall\/app:v1 to eStargz/);
    await frame.locator('table.kept tbody tr').nth(1).waitFor();
    assert.equal(await frame.locator('table.kept tbody tr').count(), 2);
    assert.equal(await frame.locator('.outcome').getAttribute('data-status'), 'cancelled');
    await bench.screenshot('reloaded');
  });
});
