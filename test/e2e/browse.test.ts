// Browse Image Files (lazy): a registry image's merged root filesystem as a read-only workspace
// folder, listed from its eStargz TOCs. A file found by name opens with its bytes, fetched alone;
// the status bar says what that cost; a file a later layer deleted is not there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Stores } from '../../src/core/image/index.js';
import { convertImage, copyImage } from '../../src/core/jobs/index.js';
import { parseReference, writeImage } from '../../src/core/oci/index.js';
import { pseudoRandom } from '../../scripts/sampleImage.js';
import { tempLayout } from '../helpers/images.js';
import { startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

const SETTINGS = `{\n  "listen": 8080,\n  "greeting": "hello from a lazily browsed image"\n}\n`;
const ASSET_BYTES = 8 * 1024 * 1024;

describe('Browse Image Files (lazy)', { timeout: 300_000 }, () => {
  let registry: RegistryFixture;
  let server: CodeServer;
  let bench: Workbench;

  before(async () => {
    registry = await startRegistry();
    const layout = await tempLayout('lazyimg-browse-');
    const text = (name: string, body: string): { name: string; type: 'file'; content: Buffer } => ({ name, type: 'file', content: Buffer.from(body) });
    await writeImage(layout, [
      { entries: [{ name: 'app', type: 'directory' }, text('app/old.txt', 'deleted by the next layer\n'), text('app/keep.txt', 'kept\n'), { name: 'etc', type: 'directory' }, text('etc/settings.json', SETTINGS)] },
      { entries: [{ name: 'data', type: 'directory' }, { name: 'data/model.bin', type: 'file', content: { size: ASSET_BYTES, stream: () => pseudoRandom('model', ASSET_BYTES) } }] },
      { entries: [{ name: 'app', type: 'directory' }, text('app/.wh.old.txt', ''), text('app/new.txt', 'added on top\n')] },
    ], { tag: 'v1' });
    await convertImage(layout, 'v1', layout, 'esgz');
    const stores = new Stores();
    await copyImage(layout, 'esgz', await stores.open(parseReference(`${registry.host}/browse/app:v1`)), 'v1');
    await copyImage(layout, 'v1', await stores.open(parseReference(`${registry.host}/browse/plain:v1`)), 'v1');
    await stores.close();
    // A workspace file: adding a folder to a one-folder window makes VS Code reload it as an
    // untitled workspace, which under load once came back with no folders at all (README).
    server = await startCodeServer({ settings: { 'lazyImages.registries': [registry.host] }, workspaceFile: true });
    bench = await Workbench.open(server, 'browse');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await registry?.stop();
  });

  it('adds the merged root filesystem as a folder; a file a later layer deleted is not in it', async () => {
    await bench.expand(registry.host);
    await bench.expand('browse/app');
    await bench.contextMenu('v1', 'Browse Image Files (lazy)');
    const top = await bench.waitForFiles((labels) => labels.includes('etc') && labels.includes('data'), 'app:v1 (lazy)');
    assert.ok(top.includes('app:v1 (lazy)'), top.join(', '));
    const inApp = await bench.waitForFiles((labels) => labels.includes('new.txt'), 'app');
    assert.ok(inApp.includes('keep.txt'), inApp.join(', '));
    assert.ok(!inApp.includes('old.txt'), `a whiteout hides old.txt: ${inApp.join(', ')}`);
    assert.ok(!inApp.some((l) => l.startsWith('.wh.')), `whiteouts are not files: ${inApp.join(', ')}`);
    await bench.screenshot('folder');
  });

  it('finds a file by name and opens it with its text, fetching a small part of the image', async () => {
    await bench.runCommand('Lazy Images: Find File in Image...');
    await bench.waitForPrompt(/Find File in app:v1/);
    const input = bench.page.locator('.quick-input-widget .quick-input-box input');
    const rows = bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
    await input.fill('keep.txt');
    await rows.filter({ hasText: 'keep.txt' }).first().waitFor();
    await input.fill('old.txt');
    await bench.until(async () => (await rows.count()) === 0, 'the deleted file is not found');
    await input.fill('settings.json');
    await bench.pick('settings.json');
    const text = await bench.waitForEditorText(/hello from a lazily browsed image/);
    assert.match(text, /"listen": 8080/);
    assert.equal(await bench.activeTabTitle(), 'settings.json');
    const status = await bench.statusBar(/fetched/);
    const m = /([\d.]+) (B|KiB|MiB) of ([\d.]+) MiB fetched/.exec(status);
    assert.ok(m, status);
    const fetched = Number(m[1]) * { B: 1, KiB: 1024, MiB: 1024 * 1024 }[m[2] as 'B'];
    assert.ok(fetched < 0.05 * Number(m[3]) * 1024 * 1024, `the TOCs and one file, not the image: ${status}`);
    await bench.screenshot('opened');
  });

  it('is read-only', async () => {
    await bench.page.locator('.editor-group-container.active .monaco-editor textarea').focus();
    await bench.page.keyboard.type('x');
    assert.doesNotMatch(await bench.editorText(), /^x/);
  });

  it('says which layers an image that is not lazy lacks, and offers to convert it', async () => {
    await bench.showView();
    await bench.expand(registry.host);
    await bench.collapse('browse/app'); // so the only v1 row is the plain image's
    await bench.expand('browse/plain');
    await bench.contextMenu('v1', 'Browse Image Files (lazy)');
    const said = await bench.notification(/its files are listed without layer 1/);
    assert.match(said, /not lazy/);
    assert.match(said, /and 2 other layers/);
    assert.match(said, /Convert to eStargz\.\.\./);
    assert.match(said, /Build SOCI Index\.\.\./);
    await bench.screenshot('not-lazy');
  });
});
