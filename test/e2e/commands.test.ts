/// <reference lib="dom" />
// Where VS Code users look, in a real VS Code: tag rows say whether each image is lazy before
// anyone expands them; Convert to eStargz... runs from the Command Palette through a quick pick of
// the tree's images; a finished job shows its result and reveals its new tag; Delete Tag asks,
// then removes the tag; a layout folder leaves the settings; and the same tree works in its own
// activity-bar container.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildSociIndexes, convertImage } from '../../src/core/jobs/index.js';
import { OciLayoutStore } from '../../src/core/oci/index.js';
import { writeSampleImage } from '../../scripts/sampleImage.js';
import { tempLayout } from '../helpers/images.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

describe('commands where VS Code users look for them', { timeout: 300_000 }, () => {
  let server: CodeServer;
  let bench: Workbench;

  let outside: OciLayoutStore;

  before(async () => {
    // A layout outside the workspace, listed in the user's settings.
    outside = await tempLayout();
    await writeSampleImage(outside, 'kept', 64 * 1024);
    server = await startCodeServer({
      settings: { 'lazyImages.layoutFolders': [outside.dir] },
      prepareWorkspace: async (dir) => {
        const layout = await OciLayoutStore.open(join(dir, 'images', 'app'), { create: true });
        // Over SOCI's 10 MiB minimum, so its layer gets a zTOC; the two small ones do not.
        await writeSampleImage(layout, 'v1', 11 * 1024 * 1024);
        await convertImage(layout, 'v1', layout, 'v1-esgz');
        await buildSociIndexes(layout, 'v1', layout, 'v1-soci');
      },
    });
    bench = await Workbench.open(server, 'commands');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
  });

  it('says on each tag row whether its image is lazy, without expanding it', async () => {
    await bench.expand('images/app');
    const rows = await bench.waitForRows((labels) => ['v1 ', 'v1-esgz ', 'v1-soci '].every((tag) => labels.some((l) => l.startsWith(tag))));
    assert.ok(rows.includes('v1 not lazy'), rows.join('\n'));
    assert.ok(rows.includes('v1-esgz eStargz'), rows.join('\n'));
    assert.ok(rows.includes('v1-soci partly lazy (1/3 layers, SOCI v2)'), rows.join('\n'));
    for (const tag of ['v1', 'v1-esgz', 'v1-soci']) assert.equal(await bench.row(tag).getAttribute('aria-expanded'), 'false', `${tag} was not expanded`);
    assert.deepEqual([await bench.rowIcon('v1'), await bench.rowIcon('v1-esgz'), await bench.rowIcon('v1-soci')], ['tag', 'cloud-download', 'cloud']);
    // Convert, index and readiness are one click away on the row itself.
    await bench.row('v1').hover();
    const inline = await bench.row('v1').locator('.actions .action-label').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
    for (const action of ['Convert to eStargz...', 'Build SOCI Index...', 'Verify Lazy Pull Readiness']) assert.ok(inline.includes(action), inline.join(', '));
    await bench.screenshot('lazy-status');
  });

  it('converts to eStargz from the Command Palette, picking the image in a quick pick', async () => {
    await bench.runCommand('Lazy Images: Convert to eStargz...');
    await bench.waitForPrompt(/Where is the image\?/);
    await bench.pick('images/app');
    await bench.waitForPrompt(/Which image\?/);
    await bench.pick('oci:'); // the first: v1, in index.json order
    await bench.waitForPrompt(/Convert app:v1 to eStargz \| .*Enter starts with these options/);
    await bench.pick('Tag');
    await bench.waitForPrompt(/tag/);
    await bench.answer('from-palette');
    await bench.waitForPrompt(/Enter starts with these options/);
    await bench.pick('Convert');
    await bench.waitForRows((labels) => labels.some((l) => /^eStargz app:v1 → from-palette succeeded · [\d.]+ s · images\/app$/.test(l)));
    await bench.waitForRows((labels) => labels.includes('from-palette eStargz'));
    await bench.screenshot('converted-from-palette');
  });

  it('shows a finished job\'s result, reveals its new tag, and clears the finished jobs', async () => {
    await bench.contextMenu(/^eStargz app:v1 → from-palette/, 'Show Result');
    const report = await bench.webview(/^Job report: Convert oci:.*images\/app:v1 to eStargz at oci:.*images\/app:from-palette$/);
    assert.match(await report.locator('.outcome').textContent() ?? '', /^succeeded after [\d.]+ s: sha256:[0-9a-f]{64}: 3 layers/);
    await bench.collapse('images/app');
    await bench.contextMenu(/^eStargz app:v1 → from-palette/, 'Reveal the New Tag');
    await bench.until(async () => (await bench.row('from-palette').getAttribute('aria-selected')) === 'true', 'the new tag was never revealed and selected');
    await bench.contextMenu(/^eStargz app:v1 → from-palette/, 'Clear Finished Jobs');
    await bench.waitForRows((labels) => !labels.some((l) => l.startsWith('Jobs')));
  });

  it('deletes a tag after asking', async () => {
    await bench.contextMenu('from-palette', 'Delete Tag...');
    await bench.dialog(/Delete the tag from-palette in images\/app\?/, 'Delete Tag');
    await bench.waitForRows((labels) => !labels.some((l) => l.startsWith('from-palette')) && labels.some((l) => l.startsWith('v1-esgz')));
  });

  it('shows a tag written into a layout folder outside the workspace', async () => {
    await bench.expand(outside.dir);
    await bench.row('kept').waitFor();
    await writeSampleImage(outside, 'added-later', 64 * 1024);
    await bench.waitForRows((labels) => labels.some((l) => l.startsWith('added-later')));
    await bench.collapse(outside.dir);
  });

  it('removes a layout folder from the settings that list it; the folder stays on disk', async () => {
    await bench.contextMenu(outside.dir, 'Remove Layout Folder');
    assert.match(await bench.statusBar(/Removed/), /from the layout folders of the user settings/);
    await bench.waitForRows((labels) => !labels.includes(outside.dir) && labels.includes('images/app'));
    const settings = JSON.parse(await readFile(join(server.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(settings['lazyImages.layoutFolders'], []);
    assert.ok((await outside.resolve('kept')).digest);
  });

  it('shows the same tree in its own activity-bar container', async () => {
    await bench.page.locator('.activitybar .action-item a[aria-label^="Lazy Images"]').click();
    const sidebar = bench.page.locator('.part.sidebar');
    await sidebar.locator('.monaco-list-row', { hasText: 'Local OCI Layouts' }).waitFor();
    await sidebar.locator('.monaco-list-row', { hasText: 'images/app' }).click();
    await sidebar.locator('.monaco-list-row', { hasText: /^v1-esgz/ }).waitFor();
    await bench.screenshot('activity-bar');
  });
});
