// A cloned repository is untrusted input. Its `.vscode/settings.json` names a worker command (a
// script that leaves a marker file, then runs our worker) and marks a self-signed registry as
// insecure. In Restricted Mode neither counts. Trusted, the worker runs only after the user has
// seen its command line and allowed it, and the insecure registry is listed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyImage } from '../../src/core/jobs/index.js';
import { Stores } from '../../src/core/image/index.js';
import { parseReference } from '../../src/core/oci/index.js';
import { sampleLayout } from '../helpers/images.js';
import { selfSignedCertificate } from '../integration/fixtures/fakeServer.js';
import { startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { ROOT, startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

let registry: RegistryFixture;
let tlsRegistry: RegistryFixture;
let dir: string;
let marker: string;
let script: string;

/** A workspace as a hostile clone would have it: its own worker and its own insecure registry. */
async function hostileWorkspace(workspace: string): Promise<void> {
  await mkdir(join(workspace, '.vscode'));
  await writeFile(join(workspace, '.vscode', 'settings.json'), JSON.stringify({
    'lazyImages.worker.command': script,
    'lazyImages.insecureRegistries': [tlsRegistry.host],
  }));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lazyimg-trust-'));
  marker = join(dir, 'worker-ran');
  script = join(dir, 'worker from the repo.sh');
  // It does what a malicious worker would do first, then behaves, so an allowed job completes.
  await writeFile(script, `#!/bin/sh\necho "$@" > '${marker}'\nexec '${process.execPath}' '${join(ROOT, 'dist', 'worker.js')}'\n`);
  await chmod(script, 0o755);
  registry = await startRegistry();
  tlsRegistry = await startRegistry({ tls: await selfSignedCertificate(dir) });
  const sample = await sampleLayout(64 * 1024);
  const stores = new Stores({ insecure: [tlsRegistry.host] });
  await copyImage(sample, 'sample', await stores.open(parseReference(`${registry.host}/demo/app:v1`)), 'v1');
  await copyImage(sample, 'sample', await stores.open(parseReference(`${tlsRegistry.host}/tls/app:v1`)), 'v1');
  await stores.close();
});
after(async () => {
  await registry?.stop();
  await tlsRegistry?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('an untrusted workspace', { timeout: 240_000 }, () => {
  let server: CodeServer;
  let bench: Workbench;

  before(async () => {
    server = await startCodeServer({ trusted: false, settings: { 'lazyImages.registries': [registry.host, tlsRegistry.host] }, prepareWorkspace: hostileWorkspace });
    bench = await Workbench.open(server, 'trust-untrusted');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
  });

  it("runs jobs on the built-in worker, never the workspace's", async () => {
    await bench.expand(registry.host);
    await bench.expand('demo/app');
    await bench.contextMenu('v1', 'Check Digests');
    assert.match(await bench.notification(/is valid/), /4 blobs/);
    assert.equal(await bench.dialogs(), 0, 'nothing to allow: the workspace worker does not count');
    assert.ok(!existsSync(marker), 'the workspace worker ran');
    const log = await server.extensionLog();
    assert.match(log, /Worker: \S+ \S*dist\/worker\.js/);
    assert.ok(!log.includes('worker from the repo'), log);
  });

  it("ignores its insecureRegistries: the self-signed registry's certificate is refused", async () => {
    await bench.expand(tlsRegistry.host);
    const rows = await bench.waitForRows((labels) => labels.some((l) => /certificate/i.test(l)));
    assert.ok(!rows.includes('tls/app'), rows.join(' | '));
    await bench.screenshot('untrusted');
  });
});

describe('the same workspace, trusted', { timeout: 240_000 }, () => {
  let server: CodeServer;
  let bench: Workbench;

  before(async () => {
    server = await startCodeServer({ settings: { 'lazyImages.registries': [registry.host, tlsRegistry.host] }, prepareWorkspace: hostileWorkspace });
    bench = await Workbench.open(server, 'trust-trusted');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
  });

  it('lists the registry its insecureRegistries names', async () => {
    await bench.expand(tlsRegistry.host);
    await bench.row('tls/app').waitFor();
  });

  it('shows the whole worker command line before the first job; Cancel runs nothing', async () => {
    await bench.expand(registry.host);
    await bench.expand('demo/app');
    await bench.contextMenu('v1', 'Check Digests');
    const asked = await bench.dialog(/Run a custom Lazy Images worker/, 'Cancel');
    assert.ok(asked.includes(`'${script}'`), `the command line, quoted as a shell needs it: ${asked}`);
    assert.match(asked, /this workspace's settings/);
    assert.match(asked, /registry credentials/);
    await bench.until(async () => (await server.extensionLog()).includes('Worker not allowed, nothing run'), 'the refusal is logged');
    assert.ok(!existsSync(marker), 'refused, yet the worker ran');
    assert.ok(!(await server.extensionLog()).includes('Job 1 started'), 'a refused job is no job');
    await bench.screenshot('asked');
  });

  it('Allow runs it, and is remembered', async () => {
    await bench.contextMenu('v1', 'Check Digests');
    await bench.dialog(/Run a custom Lazy Images worker/, 'Allow');
    await bench.notification(/is valid/);
    assert.ok(existsSync(marker), 'allowed, the worker ran');
    await rm(marker);
    await bench.contextMenu('v1', 'Verify Lazy Pull Readiness');
    await bench.until(async () => (await server.extensionLog()).includes('Job 2 '), 'the second job ran');
    assert.equal(await bench.dialogs(), 0, 'asked again');
  });
});
