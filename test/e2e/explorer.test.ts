/// <reference lib="dom" />
// The Lazy Images view in a real VS Code, driven like a person: add a registry through the input
// boxes, expand to the layers, copy a digest, inspect a manifest, see a layout appear.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyImage } from '../../src/core/jobs/index.js';
import { Stores } from '../../src/core/image/index.js';
import { OciLayoutStore, parseReference } from '../../src/core/oci/index.js';
import { writeSampleImage } from '../../scripts/sampleImage.js';
import { sampleLayout } from '../helpers/images.js';
import { credentialsFor, startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

describe('Lazy Images explorer in VS Code', { timeout: 240_000 }, () => {
  let registry: RegistryFixture;
  let server: CodeServer;
  let bench: Workbench;
  let digest: string;

  before(async () => {
    registry = await startRegistry({ auth: 'basic' });
    const stores = new Stores({ credentials: credentialsFor(registry) });
    digest = (await copyImage(await sampleLayout(), 'sample', await stores.open(parseReference(`${registry.host}/demo/app:v1`)), 'v1')).descriptor.digest;
    await stores.close();
    server = await startCodeServer();
    bench = await Workbench.open(server, 'explorer');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await registry?.stop();
  });

  it('shows the welcome view while nothing is configured', async () => {
    await bench.view().locator('.welcome-view-content', { hasText: 'Add Registry' }).waitFor();
    await bench.screenshot('welcome');
  });

  it('adds a registry with a username and password through the input boxes', async () => {
    await bench.clickWelcomeButton('Add Registry');
    assert.match(await bench.prompt(), /Registry host/);
    await bench.answer(registry.host);
    assert.match(await bench.prompt(), /How does this registry authenticate you/);
    await bench.pick('Username and password');
    assert.match(await bench.prompt(), /Username/);
    await bench.answer(registry.username);
    assert.match(await bench.prompt(), /Password or access token/);
    assert.equal(await bench.page.locator('.quick-input-box input').getAttribute('type'), 'password');
    await bench.answer(registry.password);
    await bench.row(registry.host).waitFor();
    assert.match((await bench.rowLabels()).join('\n'), /logged in/);
    await bench.screenshot('registry-added');
  });

  it('expands registry, repository and tag down to the layers', async () => {
    await bench.expand(registry.host);
    await bench.expand('demo/app');
    await bench.expand('v1');
    await bench.row('layer 3/3').waitFor();
    const labels = await bench.rowLabels();
    assert.ok(labels.some((l) => /^layer 1\/3 1\.50 KiB · tar\+gzip$/.test(l)), labels.join('\n'));
    assert.ok(labels.some((l) => /^layer 2\/3 3\.00 MiB · tar\+gzip$/.test(l)), labels.join('\n'));
    await bench.screenshot('layers');
  });

  it('copies the digest of an image from its context menu', async () => {
    await bench.contextMenu('v1', 'Copy Digest');
    const said = await bench.statusBar(/Copied sha256:/);
    assert.ok(said.includes(digest), said);
    assert.equal(await bench.clipboard(), digest);
    await bench.screenshot('copied-digest');
  });

  it('opens the manifest as read-only JSON', async () => {
    await bench.contextMenu('v1', 'Inspect Manifest');
    await bench.page.waitForFunction(() => document.querySelector('.editor-group-container.active .tab.active')?.textContent?.includes('v1.json'));
    const text = await bench.waitForEditorText(/"schemaVersion": 2/);
    assert.match(text, /application\/vnd\.oci\.image\.manifest\.v1\+json/);
    assert.match(text, new RegExp(`"digest": "sha256:`));
    assert.equal(await bench.activeTabTitle(), 'app:v1.json');
    await bench.page.locator('.editor-group-container.active .monaco-editor textarea').focus();
    await bench.page.keyboard.type('x');
    assert.doesNotMatch(await bench.editorText(), /^x/, 'the manifest document is read-only');
    await bench.screenshot('manifest');
  });

  it('opens the image config: entrypoint, environment and history', async () => {
    await bench.contextMenu('v1', 'Inspect Config');
    await bench.page.waitForFunction(() => document.querySelector('.editor-group-container.active .tab.active')?.textContent?.includes('v1 config.json'));
    const text = await bench.waitForEditorText(/Entrypoint/);
    assert.match(text, /"Entrypoint": \[/);
    assert.match(text, /"Env": \[/);
    assert.match(text, /"history": \[/);
    assert.match(text, /"created_by": "COPY base\/ \/"/);
    await bench.screenshot('config');
  });

  it('copies a repository\'s reference, and offers the roots and the repository their own entries', async () => {
    await bench.contextMenu('demo/app', 'Copy Reference');
    await bench.statusBar(new RegExp(`Copied ${registry.host.replace(/\./g, '\\.')}/demo/app`));
    assert.equal(await bench.clipboard(), `${registry.host}/demo/app`);
    // A repository's tags, by a pattern, can be made lazy in one batch.
    assert.deepEqual(await bench.menuEntries('demo/app'), ['Convert Many...', 'Index Many...', 'Export as Kubernetes Job...', 'Refresh', 'Copy Reference']);
    assert.ok((await bench.menuEntries('Registries')).includes('Add Registry...'));
    assert.ok((await bench.menuEntries('Local OCI Layouts')).includes('Add OCI Layout Folder...'));
  });

  it('lists an OCI layout that appears in the workspace', async () => {
    const layout = await OciLayoutStore.open(join(server.workspace, 'images', 'sample'), { create: true });
    await writeSampleImage(layout, 'sample', 256 * 1024);
    await bench.waitForRows((labels) => labels.includes('images/sample'));
    await bench.expand('images/sample');
    await bench.expand('sample');
    await bench.row('layer 2/3').waitFor();
    await bench.screenshot('layout');
  });

  it('shows a tag another tool writes into an expanded layout', async () => {
    const layout = await OciLayoutStore.open(join(server.workspace, 'images', 'sample'));
    await writeSampleImage(layout, 'written-outside', 64 * 1024);
    await bench.waitForRows((labels) => labels.some((l) => l.startsWith('written-outside')) && labels.some((l) => l.startsWith('layer 2/3')));
  });

  it('reveals a layout in the Explorer; one the workspace holds cannot be removed from the settings', async () => {
    const entries = await bench.menuEntries('images/sample');
    assert.ok(entries.includes('Reveal in Explorer'), entries.join(', '));
    assert.ok(!entries.includes('Remove Layout Folder'), entries.join(', '));
    await bench.contextMenu('images/sample', 'Reveal in Explorer');
    // The Explorer shows the lone folder compacted with its parent.
    await bench.page.locator('.explorer-folders-view .monaco-list-row.selected', { hasText: /^images\/sample$/ }).waitFor();
    await bench.screenshot('revealed');
  });

  it('never writes the password to settings, logs or any file of the server', async (t) => {
    const settings = await readFile(join(server.userDataDir, 'User', 'settings.json'), 'utf8');
    assert.match(settings, new RegExp(registry.host.replace(/\./g, '\\.')), 'the registry is in the settings');
    const log = await server.extensionLog();
    assert.match(log, /Added registry/);
    t.diagnostic(`extension log: ${/activated in \d+ ms/.exec(log)?.[0] ?? 'no activation line'}`);
    for (const file of await server.files()) {
      const content = await readFile(file).catch(() => Buffer.alloc(0));
      assert.ok(!content.includes(registry.password), `${file} contains the password`);
    }
  });
});

