/// <reference lib="dom" />
// Bad registries in the real UI: each shows a clear error node with an action, and the rest of the
// tree keeps working.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { copyImage } from '../../src/core/jobs/index.js';
import { Stores } from '../../src/core/image/index.js';
import { parseReference } from '../../src/core/oci/index.js';
import { sampleLayout } from '../helpers/images.js';
import type { FakeServer } from '../integration/fixtures/fakeServer.js';
import { credentialsFor, freePort, startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startRegistryProxy } from '../integration/fixtures/registryProxy.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

describe('registry errors in the Lazy Images view', { timeout: 240_000 }, () => {
  let good: RegistryFixture;
  let locked: RegistryFixture;
  let noCatalog: FakeServer;
  let unreachable: string;
  let server: CodeServer;
  let bench: Workbench;

  before(async () => {
    [good, locked] = await Promise.all([startRegistry(), startRegistry({ auth: 'basic' })]);
    const source = await sampleLayout(256 * 1024);
    for (const registry of [good, locked]) {
      const stores = new Stores({ credentials: credentialsFor(registry) });
      await copyImage(source, 'sample', await stores.open(parseReference(`${registry.host}/demo/app:v1`)), 'v1');
      await stores.close();
    }
    // Like registries that hide their catalog (Docker Hub, GHCR): 405 for /v2/_catalog.
    noCatalog = await startRegistryProxy(good.host, {
      intercept: (url, _req, res) => {
        if (url.pathname !== '/v2/_catalog') return false;
        res.writeHead(405, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }] }));
        return true;
      },
    });
    unreachable = `127.0.0.1:${await freePort()}`;
    server = await startCodeServer({ settings: { 'lazyImages.registries': [unreachable, locked.host, noCatalog.host, good.host] } });
    bench = await Workbench.open(server, 'errors');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await noCatalog?.close();
    await Promise.all([good?.stop(), locked?.stop()]);
  });

  it('shows an unreachable registry as an error node that retries when clicked', async () => {
    await bench.expand(unreachable);
    const error = bench.row(/Connection refused/);
    await error.waitFor();
    assert.match((await error.getAttribute('aria-label')) ?? '', /click to try again/);
    await bench.screenshot('unreachable');
    await bench.click(error);
    await bench.row(/Connection refused/).waitFor();
  });

  it('asks to log in, reports a wrong password, and works once the password is right', async () => {
    await bench.expand(locked.host);
    const anonymous = bench.row(/log in first/);
    assert.match((await anonymous.getAttribute('aria-label')) ?? '', /click to log in/);
    await anonymous.waitFor();
    await bench.screenshot('needs-login');
    await bench.clickForPrompt(/log in first/);
    assert.match(await bench.prompt(), new RegExp(`Log In to ${locked.host.replace(/\./g, '\\.')}.*Username`));
    await bench.answer(locked.username);
    await bench.waitForPrompt(/Password/);
    await bench.answer('not-the-password');
    const rejected = bench.row(/credentials were rejected/i);
    await rejected.waitFor();
    await bench.screenshot('wrong-password');
    await bench.clickForPrompt(/credentials were rejected/i);
    await bench.waitForPrompt(/Username/);
    await bench.answer(locked.username);
    await bench.waitForPrompt(/Password/);
    await bench.answer(locked.password);
    await bench.row('demo/app').waitFor();
    await bench.waitForRows((labels) => labels.includes(`${locked.host} logged in`));
    await bench.screenshot('logged-in');
  });

  it('offers Add Repository when the registry has no catalog', async () => {
    await bench.expand(noCatalog.host);
    await bench.row(/does not offer a catalog/i).waitFor();
    await bench.screenshot('no-catalog');
    await bench.clickForPrompt('Add Repository...');
    assert.match(await bench.prompt(), /Add Repository to/);
    await bench.answer('demo/app');
    const rows = await bench.waitForRows((labels) => labels.filter((l) => l.startsWith('demo/app')).length === 2);
    assert.ok(rows.some((l) => /does not offer a catalog/i.test(l)));
  });

  it('keeps the healthy registry working beside the broken ones', async () => {
    await bench.expand(good.host);
    await bench.row('demo/app').waitFor();
    await bench.screenshot('healthy');
    const labels = await bench.rowLabels();
    assert.ok(labels.some((l) => /Connection refused/.test(l)), 'the unreachable registry still shows its error');
  });
});

