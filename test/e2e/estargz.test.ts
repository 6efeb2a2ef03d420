/// <reference lib="dom" />
// eStargz in a real VS Code: convert an image of a workspace OCI layout from the tree (new tag,
// chunk size, a prioritized file) and watch the job's progress; see the new tag's layers badged
// eStargz and browse a layer's TOC as folders (chunk counts, link targets, the prefetched file, a
// large directory in pages); open a file lazily; verify lazy pull readiness and read the image report.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OciLayoutStore } from '../../src/core/oci/index.js';
import { writeSampleImage } from '../../scripts/sampleImage.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

/** Large enough that the conversion runs for a few seconds: time to see its progress. */
const ASSET_BYTES = 96 * 1024 * 1024;
const PAGE = 25;

describe('eStargz: convert, browse the TOC, verify lazy pull readiness', { timeout: 300_000 }, () => {
  let server: CodeServer;
  let bench: Workbench;

  before(async () => {
    server = await startCodeServer({
      settings: { 'lazyImages.pageSize': PAGE },
      prepareWorkspace: async (dir) => {
        await writeSampleImage(await OciLayoutStore.open(join(dir, 'images', 'app'), { create: true }), 'v1', ASSET_BYTES);
      },
    });
    bench = await Workbench.open(server, 'estargz');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
  });

  it('converts the image from its context menu, with progress in a notification and in the Jobs node', async () => {
    await bench.expand('images/app');
    await bench.contextMenu('v1', 'Convert to eStargz...');
    await bench.waitForPrompt(/Enter starts with these options/);
    const defaults = await bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
    assert.ok(defaults.some((o) => /Tag\s*v1-esgz/.test(o)), `the default tag: ${defaults.join('\n')}`);
    await bench.pick('Chunk size');
    await bench.waitForPrompt(/chunk size/);
    await bench.answer('1 MiB');
    await bench.waitForPrompt(/Enter starts with these options/);
    await bench.pick('Prioritized files');
    await bench.waitForPrompt(/files to put first and prefetch/);
    await bench.pick('Enter paths...');
    await bench.waitForPrompt(/Paths in the image/);
    await bench.answer('/bin/hello');
    await bench.waitForPrompt(/Enter starts with these options/);
    const options = await bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
    assert.ok(options.some((o) => /Chunk size\s*1\.00 MiB/.test(o)) && options.some((o) => /Prioritized files\s*1: \/bin\/hello/.test(o)), options.join('\n'));
    await bench.pick('Convert');

    const toast = bench.page.locator('.notifications-toasts .notification-toast', { hasText: 'to eStargz at' });
    await toast.locator('.notification-list-item-message', { hasText: /layer \d\/3: .* of / }).waitFor();
    await bench.page.waitForTimeout(300); // the toast slides in: let the screenshot show it whole
    await bench.screenshot('progress');
    await bench.waitForRows((labels) => labels.some((l) => /^eStargz app:v1 → v1-esgz succeeded · [\d.]+ s · images\/app$/.test(l)));
    await bench.notification(/Converted to eStargz: .*images\/app:v1-esgz \(3 layers\)/);
    await bench.row('v1-esgz').waitFor();
    await bench.screenshot('converted');
  });

  it('badges the new tag\'s layers eStargz and shows a layer\'s TOC as folders, prefetched file marked', async () => {
    await bench.expand('v1-esgz');
    const layers = await bench.waitForRows((labels) => labels.filter((l) => /^layer \d\/3 eStargz · .* · tar\+gzip$/.test(l)).length === 3);
    assert.ok(layers.some((l) => /^layer 2\/3 eStargz · 9\d\.\d MiB · tar\+gzip$/.test(l)), layers.join('\n'));
    await bench.expand('layer 1/3');
    await bench.expand('bin');
    const bin = await bench.waitForRows((labels) => labels.includes('hi → hello'));
    assert.ok(bin.includes('hello 50 B · 1 chunk · prefetched'), bin.join('\n'));
    assert.ok(bin.includes('.prefetch.landmark 1 B · 1 chunk'), bin.join('\n'));
    await bench.screenshot('toc');
  });

  it('opens a file of the TOC lazily: its bytes, read-only, and what that fetched', async () => {
    await bench.openRow('hello');
    const text = await bench.waitForEditorText(/hello from a lazily pulled image/);
    assert.equal(text.trim(), '#!/bin/sh\necho "hello from a lazily pulled image"');
    const said = await bench.notification(/Read \/bin\/hello lazily/);
    const m = /Read \/bin\/hello lazily through 1 eStargz chunk: fetched ([\d.]+) (B|KiB) of the [\d.]+ KiB layer \(([\d.]+)%\)/.exec(said);
    assert.ok(m, said);
    assert.ok(Number(m[3]) < 50, `one gzip member, not the layer: ${said}`);
    await bench.screenshot('opened');
  });

  it('pages a large TOC directory with Load more', async () => {
    await bench.expand('usr');
    await bench.expand('share');
    await bench.expand('doc');
    const toEnd = async (): Promise<void> => {
      await bench.focusTree();
      await bench.page.keyboard.press('End');
    };
    const first = await bench.waitForRows((labels) => labels.includes('Load more...'), toEnd);
    const notes = (rows: string[]): string[] => rows.filter((l) => /^note-\d+\.txt /.test(l));
    assert.ok(notes(first).length <= PAGE && !first.some((l) => l.startsWith('note-9.txt ')), first.join('\n'));
    await bench.click(bench.row('Load more...'));
    const all = await bench.waitForRows((labels) => labels.some((l) => l.startsWith('note-9.txt ')) && !labels.includes('Load more...'), toEnd);
    assert.match(all.find((l) => l.startsWith('note-9.txt ')) ?? '', /^note-9\.txt [\d.]+ KiB · 1 chunk$/);
    await bench.screenshot('toc-paged');
  });

  it('verifies lazy pull readiness and shows in the image report that every layer is lazy', async () => {
    await bench.contextMenu('v1-esgz', 'Verify Lazy Pull Readiness');
    const report = await bench.webview(/^Image report: oci:.*images\/app:v1-esgz$/, 120_000);
    await report.locator('.verification[data-ok="true"]').waitFor({ timeout: 120_000 });
    assert.equal(await report.locator('section.platform .verdict').textContent(), 'Lazy: all 3 layers can be pulled lazily.');
    const first = report.locator('section.platform tr[data-digest]').first();
    assert.equal(await first.locator('td.lazy').textContent(), 'eStargz');
    const [check, prefetch] = await first.locator('[data-check="TOC"] > div').allTextContents();
    assert.match(check ?? '', /^TOC verified: 42 files, (\d+)\/\1 chunks checked$/);
    assert.match(prefetch ?? '', /^Prefetch: 1 file, .* before \.prefetch\.landmark$/);
    await first.locator('details.annotations summary').click();
    assert.match((await first.locator('details.annotations').textContent()) ?? '', /containerd\.io\/snapshot\/stargz\/toc\.digestsha256:[0-9a-f]{64}/);
    await bench.screenshot('report');
    await bench.waitForRows((labels) => labels.some((l) => /^Lazy pull app:v1-esgz succeeded · [\d.]+ s · images\/app$/.test(l)));
  });
});
