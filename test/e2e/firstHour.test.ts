/// <reference lib="dom" />
// What broke in a new user's first hour, in a real VS Code: a conversion of an image that is
// already eStargz must end as soon as its tag is written; Add and Remove Registry must change the
// list that is in effect (here the workspace's) and leave the user's alone; Use for Dockerfile
// Layer Report must go to the Dockerfile being edited, its lenses must show without an edit, and
// Clear Dockerfile Layer Report must take them away.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Stores } from '../../src/core/image/index.js';
import { convertImage, copyImage } from '../../src/core/jobs/index.js';
import { parseReference } from '../../src/core/oci/index.js';
import { writeSampleImage } from '../../scripts/sampleImage.js';
import { tempLayout } from '../helpers/images.js';
import { startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

/** The Dockerfile the sample image comes from: one COPY per layer, as its history says. */
const DOCKERFILE = 'FROM scratch\nCOPY base/ /\nCOPY model/ /opt/model/\nCOPY app/ /app/\nENTRYPOINT ["/app/server.sh"]\n';
const OTHER = 'FROM scratch\nCOPY tools/ /usr/local/bin/\nRUN ["/usr/local/bin/setup"]\n';
/** A registry the user lists: the workspace's own list hides it. */
const USER_REGISTRY = '127.0.0.1:1';
const ADDED = '127.0.0.1:2';

describe('the first hour in the editor', { timeout: 300_000 }, () => {
  let registry: RegistryFixture;
  let server: CodeServer;
  let bench: Workbench;

  before(async () => {
    registry = await startRegistry();
    const layout = await tempLayout();
    await writeSampleImage(layout, 'v1', 2 * 1024 * 1024);
    await convertImage(layout, 'v1', layout, 'v1-esgz');
    const stores = new Stores();
    await copyImage(layout, 'v1-esgz', await stores.open(parseReference(`${registry.host}/first/app:v1-esgz`)), 'v1-esgz');
    await stores.close();
    server = await startCodeServer({
      settings: { 'lazyImages.registries': [USER_REGISTRY] },
      prepareWorkspace: async (dir) => {
        await mkdir(join(dir, '.vscode'));
        await writeFile(join(dir, '.vscode', 'settings.json'), JSON.stringify({ 'lazyImages.registries': [registry.host] }, null, 2));
        await writeFile(join(dir, 'app.Dockerfile'), DOCKERFILE);
        await writeFile(join(dir, 'tools.Dockerfile'), OTHER);
      },
    });
    bench = await Workbench.open(server, 'first-hour');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await registry?.stop();
  });

  const settingsOf = async (file: string): Promise<{ 'lazyImages.registries'?: string[] }> => JSON.parse(await readFile(file, 'utf8')) as { 'lazyImages.registries'?: string[] };
  const workspaceSettings = (): string => join(server.workspace, '.vscode', 'settings.json');
  const userSettings = (): string => join(server.userDataDir, 'User', 'settings.json');

  it('ends a conversion of an image that is already eStargz as soon as its new tag is written', async () => {
    await bench.expand(registry.host);
    await bench.expand('first/app');
    await bench.contextMenu('v1-esgz', 'Convert to eStargz...');
    await bench.dialog(/app:v1-esgz is eStargz already\. Convert it again\?/, 'Convert Again');
    await bench.waitForPrompt(/Enter starts with these options/);
    const options = await bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
    assert.ok(options.some((o) => /Tag\s*v1-esgz-reconverted/.test(o)), `no -esgz-esgz: ${options.join('\n')}`);
    await bench.pick('Tag');
    await bench.waitForPrompt(/tag/);
    await bench.answer('again');
    await bench.waitForPrompt(/Enter starts with these options/);
    await bench.pick('Convert');
    await bench.waitForRows((labels) => labels.some((l) => /^eStargz app:v1-esgz → again succeeded · [\d.]+ s · 127\.0\.0\.1:\d+$/.test(l)));
    await bench.row('again').waitFor();
    await bench.screenshot('converted-again');
  });

  it('adds a registry to the workspace list in effect, and removes it from there; the user list is untouched', async () => {
    const userBefore = await readFile(userSettings(), 'utf8');
    await bench.runCommand('Lazy Images: Add Registry...');
    await bench.waitForPrompt(/Registry host/);
    await bench.answer(ADDED);
    await bench.pick('No credentials');
    await bench.notification(new RegExp(`Added registry ${ADDED.replace(/\./g, '\\.')} to the workspace settings`));
    await bench.row(ADDED).waitFor();
    assert.deepEqual((await settingsOf(workspaceSettings()))['lazyImages.registries'], [registry.host, ADDED]);
    assert.equal(await readFile(userSettings(), 'utf8'), userBefore, 'the user settings are untouched');
    await bench.screenshot('added');

    await bench.contextMenu(ADDED, 'Remove Registry');
    await bench.notification(new RegExp(`Removed registry ${ADDED.replace(/\./g, '\\.')} from the workspace settings`));
    await bench.waitForRows((labels) => !labels.some((l) => l.startsWith(ADDED)) && labels.some((l) => l.startsWith(registry.host)));
    assert.deepEqual((await settingsOf(workspaceSettings()))['lazyImages.registries'], [registry.host]);
    assert.equal(await readFile(userSettings(), 'utf8'), userBefore, 'the user settings are untouched');
  });

  /** The lens titles shown in the editor group whose active tab is `file`. */
  const lenses = (file: string): Promise<string[]> => bench.page.locator('.editor-group-container', { has: bench.page.locator('.tab.active', { hasText: new RegExp(`^${file.replace(/\./g, '\\.')}`) }) })
    .locator('.codelens-decoration a').allTextContents();

  it('ties the image to the Dockerfile being edited, not the first one on screen; its lenses show without an edit; Clear removes them', async () => {
    await bench.expand(registry.host);
    await bench.expand('first/app');
    await bench.openFile('tools.Dockerfile');
    await bench.page.keyboard.press('Control+\\'); // split: tools.Dockerfile stays on the left
    await bench.openFile('app.Dockerfile'); // edited on the right
    await bench.contextMenu('v1-esgz', 'Use for Dockerfile Layer Report');
    await bench.page.locator('.tab', { hasText: 'app.Dockerfile layers.md' }).waitFor();
    await bench.until(async () => (await lenses('app.Dockerfile')).filter((t) => / · lazy \(eStargz\)$/.test(t)).length === 3, 'the layer lenses never showed, without an edit');
    const shown = await lenses('app.Dockerfile');
    assert.equal(shown.filter((t) => / · lazy \(eStargz\)$/.test(t)).length, 3, shown.join(' | '));
    assert.ok(!(await lenses('tools.Dockerfile')).some((t) => /lazy|layers|fewer/.test(t)), 'the other Dockerfile is left alone');
    await bench.screenshot('layer-lenses');

    await bench.page.locator('.editor-group-container .tab', { hasText: /^app\.Dockerfile/ }).first().click();
    await bench.runCommand('Lazy Images: Clear Dockerfile Layer Report');
    await bench.notification(/app\.Dockerfile no longer shows the layers of/);
    await bench.until(async () => !(await lenses('app.Dockerfile')).some((t) => /lazy \(eStargz\)/.test(t)), 'the layer lenses stayed after Clear');
    await bench.screenshot('cleared');
  });
});
