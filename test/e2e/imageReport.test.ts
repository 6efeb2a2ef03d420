/// <reference lib="dom" />
// The image report in a real VS Code, for images of a workspace OCI layout made by the real CLI:
// one converted by `lazyimg convert` (eStargz), one indexed by `lazyimg index` (SOCI). The
// table read from the webview's DOM equals `lazyimg inspect --json`; Verify from the report fills
// in the TOC checks; lazy reads show as bytes fetched, at once while the report is visible, once
// shown again when it was hidden; a tag and annotations holding markup render as text and run
// nothing; the reports survive a window reload; a light theme re-colours them.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Frame } from 'playwright-core';
import { formatBytes } from '../../src/core/format.js';
import { isImageConfig } from '../../src/core/image/index.js';
import type { InspectResult } from '../../src/core/jobs/index.js';
import { MediaType, OciLayoutStore, type ImageManifest } from '../../src/core/oci/index.js';
import { writeSampleImage } from '../../scripts/sampleImage.js';
import { runCli } from '../integration/fixtures/cli.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

/** Over SOCI's 10 MiB minimum, so the asset layer gets a zTOC; the two small ones do not. */
const ASSET_BYTES = 11 * 1024 * 1024;
const IMG = '<img src=x onerror="window.__pwned=1">';
const SCRIPT = '<script>window.__pwned=2</script>';

interface Row {
  digest: string;
  size: number;
  sizeText: string;
  state: string;
  lazy: string;
  uncompressed: string;
}

/** The layer rows of the report's only platform section, as the page shows them. */
async function rows(frame: Frame): Promise<Row[]> {
  await frame.locator('tr[data-digest]').first().waitFor();
  return frame.locator('section.platform tr[data-digest]').evaluateAll((trs) => trs.map((tr) => ({
    digest: tr.getAttribute('data-digest') ?? '',
    size: Number(tr.getAttribute('data-size')),
    sizeText: tr.querySelector('td.size')?.textContent ?? '',
    state: tr.getAttribute('data-state') ?? '',
    lazy: tr.querySelector('td.lazy')?.textContent?.trim() ?? '',
    uncompressed: tr.querySelector('td.uncompressed')?.textContent ?? '',
  })));
}

/** What the rows must say, from `lazyimg inspect --json` of the same reference. */
async function expectedRows(reference: string): Promise<Row[]> {
  const { code, stdout, stderr } = await runCli(['inspect', '--json', reference]);
  assert.equal(code, 0, stderr);
  const images = (JSON.parse(stdout) as InspectResult).manifests.filter((m) => !m.artifactType && isImageConfig(m.config.mediaType));
  assert.equal(images.length, 1, stdout);
  const sociVersion = (index: string): string => images[0]!.soci?.find((s) => s.index === index)?.version ?? '';
  return images[0]!.layers.map((l) => ({
    digest: l.digest,
    size: l.size,
    sizeText: formatBytes(l.size),
    state: l.lazy && l.soci ? 'both' : l.lazy ? 'estargz' : l.soci ? 'soci' : 'none',
    lazy: [...(l.lazy ? ['eStargz'] : []), ...(l.soci ? [`SOCI ${sociVersion(l.soci.index)}`] : [])].join(', ') || 'none',
    uncompressed: l.lazy?.uncompressedSize !== undefined ? formatBytes(l.lazy.uncompressedSize) : 'unknown',
  }));
}

describe('the image report', { timeout: 420_000 }, () => {
  let server: CodeServer;
  let bench: Workbench;
  let layout: string;
  const refused: string[] = [];
  const ref = (tag: string): string => `oci:${layout}:${tag}`;

  before(async () => {
    server = await startCodeServer({
      // Dark, so that Light Modern is a switch to a light theme.
      settings: { 'workbench.colorTheme': 'Default Dark Modern' },
      prepareWorkspace: async (dir) => {
        layout = join(dir, 'images', 'app');
        const store = await OciLayoutStore.open(layout, { create: true });
        await writeSampleImage(store, 'v1', ASSET_BYTES);
        for (const args of [['convert', '--format', 'estargz', ref('v1'), ref('v1-esgz')], ['index', ref('v1'), ref('v1-soci')]]) {
          const { code, stderr } = await runCli(args);
          assert.equal(code, 0, `lazyimg ${args.join(' ')}: ${stderr}`);
        }
        // A tag (which an OCI layout's index.json may hold as it likes) and annotations that are markup.
        const doc = await store.getManifest(await store.resolve('v1'));
        if (doc.kind !== 'manifest') throw new Error('v1 is not a manifest');
        const manifest: ImageManifest = {
          ...doc.manifest,
          annotations: { 'org.opencontainers.image.title': SCRIPT },
          layers: doc.manifest.layers.map((l, i) => (i ? l : { ...l, annotations: { 'org.opencontainers.image.title': SCRIPT, 'org.example.note': IMG } })),
        };
        await store.putManifest(Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest, IMG);
      },
    });
    bench = await Workbench.open(server, 'image-report');
    // What the pages' policy refused (a style attribute, an inline script) is a report drawn wrong.
    bench.page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
    });
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
  });

  it('opens from a tag\'s context menu: the converted image\'s table is inspect\'s', async () => {
    await bench.expand('images/app');
    await bench.contextMenu('v1-esgz', 'Show Image Report');
    const frame = await bench.webview(/^Image report: .*:v1-esgz$/);
    const shown = await rows(frame);
    assert.deepEqual(shown, await expectedRows(ref('v1-esgz')));
    assert.ok(shown.every((r) => r.state === 'estargz'), JSON.stringify(shown));
    assert.equal(await frame.locator('.bar .segment.lazy-estargz').count(), 3);
    assert.equal(await frame.locator('.verification').count(), 0);
    assert.match(await frame.locator('.findings li').first().textContent() ?? '', /^Not verified yet: .*VerifyVerify Deeply$/);
    await bench.screenshot('estargz-report');
  });

  it('verifies from the report\'s button: each TOC verified, with its files and chunks', async () => {
    const frame = await bench.webview(/^Image report: .*:v1-esgz$/);
    await frame.locator('div.actions > vscode-button[data-action="verify"]').click();
    await frame.locator('.verification[data-ok="true"]').waitFor({ timeout: 120_000 });
    const checks = await frame.locator('td.index-check [data-check="TOC"]').allTextContents();
    assert.equal(checks.length, 3, checks.join('\n'));
    for (const check of checks) {
      const m = /TOC verified: (\d+) files?, (\d+)\/(\d+) chunks checked/.exec(check);
      assert.ok(m && m[2] === m[3], check);
    }
    assert.match(checks[0]!, /Prefetch: /);
    assert.match(await frame.locator('section.platform .verdict').textContent() ?? '', /^Lazy: all 3 layers can be pulled lazily\.$/);
    await bench.screenshot('estargz-verified');
  });

  it('opens from the palette: the SOCI-indexed image\'s table is inspect\'s', async () => {
    await bench.runCommand('Lazy Images: Show Image Report');
    await bench.waitForPrompt(/Where is the image\?/);
    await bench.pick('images/app');
    await bench.waitForPrompt(/Which image\?/);
    await bench.pick('v1-soci');
    const frame = await bench.webview(/^Image report: .*:v1-soci$/);
    const shown = await rows(frame);
    assert.deepEqual(shown, await expectedRows(ref('v1-soci')));
    assert.deepEqual(shown.map((r) => r.state), ['none', 'soci', 'none']);
    assert.equal(await frame.locator('section.platform').getAttribute('data-platform'), 'linux/amd64');
    const findings = await frame.locator('section.platform .findings li').allTextContents();
    assert.ok(findings.some((f) => /^Layer 1: .*pulled whole\..*Convert to eStargz\.\.\..*Build SOCI Index\.\.\./.test(f)), findings.join('\n'));
    await bench.screenshot('soci-report');
    // A finding's button runs its command on the report's image.
    await frame.locator('section.platform .findings li').first().locator('vscode-button[data-action="convert"]').click();
    await bench.waitForPrompt(/Convert app:v1-soci to eStargz/);
    await bench.escape();
    await bench.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  });

  it('renders a tag and annotations holding markup as text, and runs none of it', async () => {
    await bench.contextMenu(IMG, 'Show Image Report');
    const frame = await bench.webview(/^Image report: .*onerror/);
    await frame.locator('tr[data-digest]').first().waitFor();
    assert.ok((await frame.locator('.reference').textContent())?.endsWith(`:${IMG}`));
    await frame.locator('details.annotations summary').first().click();
    const annotations = await frame.locator('details.annotations dd').allTextContents();
    assert.ok(annotations.includes(SCRIPT) && annotations.includes(IMG), annotations.join('\n'));
    assert.equal(await frame.locator('img').count(), 0);
    assert.equal(await frame.evaluate(() => Array.from(document.scripts).filter((s) => s.textContent?.includes('__pwned')).length), 0);
    assert.equal(await frame.evaluate(() => (window as { __pwned?: unknown }).__pwned), undefined);
    await bench.screenshot('markup-as-text');
  });

  it('shows what lazy reads fetched: once shown again after a read while hidden, and at once while visible', async () => {
    await bench.expand('v1-esgz');
    await bench.expand('layer 1/3');
    await bench.expand('etc');
    await bench.openRow('os-release'); // the report's tab is hidden behind the file's
    await bench.notification(/Read \/etc\/os-release lazily/);
    await bench.contextMenu('v1-esgz', 'Show Image Report');
    const frame = await bench.webview(/^Image report: .*:v1-esgz$/);
    const first = frame.locator('section.platform tr[data-digest]').first().locator('[data-reads]');
    await bench.until(async () => (await first.getAttribute('data-reads').catch(() => null)) === '1', 'the read made while hidden never showed');
    const bytes = Number(await first.getAttribute('data-bytes'));
    assert.ok(bytes > 0, `fetched ${bytes}`);

    // The report beside the files, so it stays visible while another file is read.
    await bench.runCommand('View: Move Editor into Right Group');
    // The moved report loads again and takes the focus when it has: wait for that, then for the
    // left group to be the active one, so the file opens there and not over the report.
    await bench.page.locator('.editor-group-container:not(.active) .tab.active', { hasText: 'os-release' }).waitFor();
    await (await bench.webview(/^Image report: .*:v1-esgz$/)).locator('section.platform tr[data-digest]').first().waitFor();
    await bench.runCommand('View: Focus First Editor Group');
    await bench.page.locator('.editor-group-container.active .tab.active', { hasText: 'os-release' }).waitFor();
    await bench.collapse('etc');
    await bench.expand('bin');
    await bench.openRow('hello');
    const visible = (await bench.webview(/^Image report: .*:v1-esgz$/)).locator('section.platform tr[data-digest]').first().locator('[data-reads]');
    await bench.until(async () => (await visible.getAttribute('data-reads').catch(() => null)) === '2', 'the read made while visible never showed');
    assert.ok(Number(await visible.getAttribute('data-bytes')) > bytes);
    await bench.screenshot('lazy-reads');
  });

  it('survives a window reload: the reports come back and are refreshed by the host', async () => {
    const before = await rows(await bench.webview(/^Image report: .*:v1-esgz$/));
    await bench.reload();
    // A report comes back when its tab shows (a hidden webview has no page).
    const tab = (name: string) => bench.page.locator('.tab', { hasText: name });
    await tab('app:v1-esgz image report').waitFor();
    await bench.screenshot('reloaded');
    await tab('app:v1-esgz image report').click();
    const esgz = await bench.webview(/^Image report: .*:v1-esgz$/);
    // The verification came back with the page's state; the table is the host's again.
    await esgz.locator('.verification[data-ok="true"]').waitFor();
    assert.deepEqual(await rows(esgz), before);
    // The page's state had the two reads of the old window; the host's data has only this window's,
    // which may hold one read of the lazy file whose editor VS Code restores.
    await bench.until(async () => (await esgz.locator('[data-reads="2"]').count()) === 0, 'the reads of the window before the reload are not this window\'s');
    await tab('onerror').click();
    const hostile = await bench.webview(/^Image report: .*onerror/);
    await hostile.locator('tr[data-digest]').first().waitFor();
    assert.equal(await hostile.evaluate(() => (window as { __pwned?: unknown }).__pwned), undefined);
    await bench.screenshot('after-reload');
  });

  it('re-colours itself for a light theme', async () => {
    await bench.page.locator('.tab', { hasText: 'app:v1-esgz image report' }).click();
    const frame = await bench.webview(/^Image report: .*:v1-esgz$/);
    // The page shown again may still be drawing from its saved state: the bar first.
    await frame.locator('.bar .segment').first().waitFor();
    const colours = (): Promise<string[]> => frame.evaluate(() => [document.body, document.querySelector('.bar .segment')!].map((e) => getComputedStyle(e).backgroundColor));
    const dark = await colours();
    await bench.runCommand('Preferences: Color Theme');
    await bench.answer('Light Modern');
    let light = dark;
    await bench.until(async () => {
      light = await colours();
      return light.every((c, i) => c !== dark[i]);
    }, `the report kept its colours ${dark.join(', ')}`);
    await bench.screenshot('light-theme');
    assert.deepEqual(refused, []);
  });
});
