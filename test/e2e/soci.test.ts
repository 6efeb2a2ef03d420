/// <reference lib="dom" />
// SOCI in a real VS Code: build a SOCI index for an image of a workspace OCI layout from the tree
// (span size changed, a job with progress), see the SOCI-enabled image with its index and the
// indexed layer badged, browse the zTOC as folders with each file's spans, and open a file lazily:
// the editor shows its bytes and a notification says how little of the layer that fetched. Copy
// Image To... another layout brings the SOCI index along.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OciLayoutStore } from '../../src/core/oci/index.js';
import { writeSampleImage } from '../../scripts/sampleImage.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

/** The asset layer: over the 10 MiB minimum, so it alone gets a zTOC; 24 spans of 1 MiB. */
const ASSET_BYTES = 24 * 1024 * 1024;

describe('SOCI: build an index, browse its zTOC, open a file lazily', { timeout: 300_000 }, () => {
  let server: CodeServer;
  let bench: Workbench;

  before(async () => {
    server = await startCodeServer({
      prepareWorkspace: async (dir) => {
        await writeSampleImage(await OciLayoutStore.open(join(dir, 'images', 'app'), { create: true }), 'v1', ASSET_BYTES);
      },
    });
    bench = await Workbench.open(server, 'soci');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
  });

  it('builds a SOCI index from the image\'s context menu, as a job, and says which layers got a zTOC', async () => {
    await bench.expand('images/app');
    await bench.contextMenu('v1', 'Build SOCI Index...');
    await bench.waitForPrompt(/Build a SOCI index for app:v1 \| .*Enter starts with these options/);
    const defaults = await bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
    for (const expected of [/Build\s*a SOCI-enabled image at app:v1-soci/, /SOCI version\s*v2 \(default/, /Tag\s*v1-soci/, /Span size\s*4\.00 MiB \(default\)/, /Minimum layer size\s*10\.0 MiB \(default\)/]) {
      assert.ok(defaults.some((o) => expected.test(o)), `${expected} in\n${defaults.join('\n')}`);
    }
    await bench.pick('Span size');
    await bench.waitForPrompt(/span size/);
    await bench.answer('1 MiB');
    await bench.waitForPrompt(/Enter starts with these options/);
    const options = await bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
    assert.ok(options.some((o) => /Span size\s*1\.00 MiB$/.test(o)), options.join('\n'));
    await bench.screenshot('options');
    await bench.pick('Build');

    await bench.waitForRows((labels) => labels.some((l) => /^SOCI v2 app:v1 → v1-soci succeeded · [\d.]+ s · images\/app$/.test(l)));
    const done = await bench.notification(/Built SOCI index v2 for /);
    assert.match(done, /Built SOCI index v2 for oci:.*images\/app:v1 at oci:.*images\/app:v1-soci: 1 zTOC \([\d.]+ KiB\); 2 layers pulled whole: smaller than the minimum layer size \(10485760 bytes\)/);
    await bench.row('v1-soci').waitFor();
    await bench.screenshot('built');
  });

  it('remembers the last choices for the next index, except the tag', async () => {
    await bench.contextMenu('v1', 'Build SOCI Index...');
    await bench.waitForPrompt(/Build a SOCI index for app:v1 \| .*Enter starts with these options/);
    const options = await bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
    assert.ok(options.some((o) => /Span size\s*1\.00 MiB$/.test(o)), options.join('\n'));
    assert.ok(options.some((o) => /Tag\s*v1-soci$/.test(o)), options.join('\n'));
    await bench.escape();
    await bench.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  });

  it('shows the SOCI-enabled image with its index after the layers, the indexed layer badged', async () => {
    const images = await bench.waitForRows((labels) => labels.some((l) => l.startsWith('v1-soci')));
    assert.ok(!images.some((l) => l.startsWith('@')), `the platform manifest and the index of v1-soci are not listed as images of their own:\n${images.join('\n')}`);
    await bench.expand('v1-soci');
    await bench.expand(/^linux\//);
    const rows = await bench.waitForRows((labels) => labels.some((l) => l.startsWith('SOCI index v2')));
    assert.ok(rows.some((l) => /^layer 2\/3 SOCI · 24\.0 MiB · tar\+gzip$/.test(l)), rows.join('\n'));
    assert.ok(rows.some((l) => /^layer 1\/3 [\d.]+ KiB · tar\+gzip$/.test(l)), rows.join('\n'));
    assert.ok(rows.some((l) => /^SOCI index v2 1 zTOC · sha256:[0-9a-f]{12}$/.test(l)), rows.join('\n'));
    assert.equal(rows.filter((l) => l.startsWith('linux/')).length, 1, `the index descriptor is not a second platform:\n${rows.join('\n')}`);
  });

  it('expands the index into its zTOC and the zTOC into folders, each file with its spans', async () => {
    await bench.expand('SOCI index v2');
    await bench.expand('zTOC of layer 2/3');
    await bench.expand('opt');
    await bench.expand('model');
    const rows = await bench.waitForRows((labels) => labels.some((l) => l.startsWith('README ')));
    assert.ok(rows.some((l) => /^24 spans of 1\.00 MiB · 4 entries · AWS SOCI CLI v0\.2$/.test(l)), rows.join('\n'));
    assert.ok(rows.includes('weights.bin 24.0 MiB · spans 0–23'), rows.join('\n'));
    assert.ok(rows.includes('README 62 B · span 23'), rows.join('\n'));
    await bench.screenshot('ztoc');
  });

  it('opens a file lazily: read-only, its bytes, and a fetch of one span, not the layer', async () => {
    await bench.openRow('README');
    const text = await bench.waitForEditorText(/Cold data: read rarely/);
    assert.equal(text.trim(), 'Cold data: read rarely, so it is the part lazy pulling saves.');
    const said = await bench.notification(/Read \/opt\/model\/README lazily/);
    const m = /Read \/opt\/model\/README lazily through SOCI span 23: fetched ([\d.]+) (B|KiB|MiB) of the 24\.0 MiB layer \(([\d.]+)%\)/.exec(said);
    assert.ok(m, said);
    assert.ok(Number(m[3]) < 10, `one span of 24 is under a tenth of the layer: ${said}`);
    await bench.screenshot('opened');
    await bench.page.locator('.editor-group-container.active .monaco-editor textarea').focus();
    await bench.page.keyboard.type('x');
    assert.doesNotMatch(await bench.editorText(), /^x/, 'the file is read-only');
  });

  it('copies the SOCI-enabled image to another layout with its index: the copy is lazy too', async () => {
    await bench.contextMenu('v1-soci', 'Copy Image To...');
    await bench.waitForPrompt(/Destination/);
    await bench.answer(`oci:${join(server.workspace, 'images', 'lazy-copy')}:copied`);
    await bench.waitForRows((labels) => labels.some((l) => /^Copy app:v1-soci → lazy-copy:copied succeeded · [\d.]+ s · images\/app$/.test(l)));
    await bench.collapse('images/app'); // so the copy's rows are the only ones of their kind
    await bench.expand('images/lazy-copy');
    await bench.expand('copied');
    await bench.expand(/^linux\//);
    const rows = await bench.waitForRows((labels) => labels.some((l) => l.startsWith('SOCI index v2')));
    assert.ok(rows.some((l) => /^layer 2\/3 SOCI · 24\.0 MiB · tar\+gzip$/.test(l)), rows.join('\n'));
    assert.ok(rows.some((l) => /^SOCI index v2 1 zTOC · sha256:[0-9a-f]{12}$/.test(l)), rows.join('\n'));
    await bench.screenshot('copied');
  });

  it('verifies the copy deeply: its zTOC equals the one rebuilt from its layer, field by field', async () => {
    await bench.contextMenu('copied', 'Verify Deeply');
    const report = await bench.webview(/^Image report: oci:.*lazy-copy:copied$/, 120_000);
    await report.locator('.verification', { hasText: /^Verified deeply: every check passed/ }).waitFor({ timeout: 120_000 });
    const ztoc = await report.locator('section.platform [data-check="zTOC"] > div').allTextContents();
    assert.match(ztoc[0] ?? '', /^zTOC verified: 4 files, (\d+)\/\1 spans checked$/);
    assert.ok(ztoc.includes('Deep: the same zTOC as rebuilt from the layer, field by field'), ztoc.join('\n'));
    assert.match((await report.locator('section.platform .verdict').textContent()) ?? '', /^Partly lazy: 1 of 3 layers/);
    await bench.screenshot('verified-deeply');
  });
});
