// The Node worker as a child process over real pipes: copies between a real registry and OCI
// layouts with progress, cancellation that leaves nothing behind, a worker killed mid-job, bounded
// concurrency, and the conformance suite against our worker and a broken one.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Stores } from '../../src/core/image/index.js';
import Ajv2020 from 'ajv/dist/2020.js';
import { PREFETCH_LANDMARK } from '../../src/core/estargz/index.js';
import { copyImage, readLayerToc } from '../../src/core/jobs/index.js';
import { PROFILE_KIND, PROFILE_VERSION, type StartupProfile } from '../../src/core/optimize/index.js';
import { parseReference, writeImage, type Descriptor } from '../../src/core/oci/index.js';
import type { TarEntry } from '../../src/core/tar/index.js';
import { WorkerClient } from '../../src/worker/client.js';
import { Methods, type ConvertResult, type CopyResult, type ProgressValue, type VerifyResult } from '../../src/worker/protocol.js';
import { pseudoRandom } from '../../scripts/sampleImage.js';
import { sampleLayout, tempLayout } from '../helpers/images.js';
import { runCli } from './fixtures/cli.js';
import type { FakeServer } from './fixtures/fakeServer.js';
import { credentialsFor, startRegistry, type RegistryFixture } from './fixtures/registry.js';
import { startRegistryProxy } from './fixtures/registryProxy.js';

const WORKER = resolve(__dirname, '..', '..', '..', 'dist', 'worker.js');
const BROKEN_WORKER = join(__dirname, 'fixtures', 'brokenWorker.js');

function client(maxConcurrentJobs?: number): WorkerClient {
  return new WorkerClient({ worker: { command: process.execPath, args: [WORKER] }, clientName: 'worker-test', ...(maxConcurrentJobs ? { maxConcurrentJobs } : {}) });
}

/** Temporary files a job could leave: in the layout and in the system temp folder. */
async function leftovers(layoutDir: string): Promise<string[]> {
  const inLayout = (await readdir(layoutDir).catch(() => [])).filter((n) => n.startsWith('.lazyimg-tmp-'));
  const inTmp = (await readdir(tmpdir())).filter((n) => n.startsWith('lazyimg-build-'));
  return [...inLayout, ...inTmp];
}

describe('the Node worker over pipes', { timeout: 180_000 }, () => {
  let registry: RegistryFixture;
  let stalling: FakeServer;
  let imageBlobs: Descriptor[];
  let big: string;

  before(async () => {
    registry = await startRegistry({ auth: 'basic' });
    const stores = new Stores({ credentials: credentialsFor(registry) });
    const pushed = await copyImage(await sampleLayout(), 'sample', await stores.open(parseReference(`${registry.host}/multi/layer:v1`)), 'v1');
    const doc = await (await stores.open(parseReference(`${registry.host}/multi/layer`))).getManifest(pushed.descriptor);
    if (doc.kind !== 'manifest') throw new Error('expected a manifest');
    imageBlobs = [doc.manifest.config, ...doc.manifest.layers];
    // A layer that is still downloading whenever a job on it is cancelled or killed: the proxy
    // sends its first 4 MiB and holds the rest back.
    const layout = await tempLayout();
    const size = 32 * 1024 * 1024;
    await writeImage(layout, [{ entries: [{ name: 'big.bin', type: 'file', content: { size, stream: () => pseudoRandom('big', size) } }] }], { tag: 'big', gzipLevel: 1 });
    await copyImage(layout, 'big', await stores.open(parseReference(`${registry.host}/big/image:v1`)), 'v1');
    stalling = await startRegistryProxy(registry.host, { stallAfter: (url) => (url.pathname.startsWith('/v2/big/image/blobs/') ? 4 * 1024 * 1024 : undefined) });
    big = `${stalling.host}/big/image:v1`;
    await stores.close();
  });
  after(async () => {
    await stalling?.close();
    await registry?.stop();
  });

  const credentials = (): object[] => [registry.host, stalling.host].map((host) => ({ registry: host, username: registry.username, password: registry.password }));

  it('copies a multi-layer image from the registry with progress that adds up to the layer sizes', async () => {
    const worker = client();
    const destination = await tempLayout();
    const progress: ProgressValue[] = [];
    try {
      const result = await worker.request<CopyResult>(Methods.copy, {
        source: `${registry.host}/multi/layer:v1`, destination: `oci:${destination.dir}:copied`, credentials: credentials(),
      }, { onProgress: (v) => progress.push(v) });
      assert.equal((await destination.resolve('copied')).digest, result.descriptor.digest);
      assert.equal(progress[0]?.kind, 'begin');
      assert.equal(progress.at(-1)?.kind, 'end');
      const last = progress.filter((v) => v.kind === 'report').at(-1);
      assert.ok(last && last.kind === 'report');
      const expected = imageBlobs.reduce((sum, b) => sum + b.size, 0);
      assert.equal(last.total, expected);
      assert.equal(last.done, expected);
      assert.deepEqual(last.items.map((i) => [i.id, i.done, i.total]).sort(), imageBlobs.map((b) => [b.digest, b.size, b.size]).sort());
      // ... and back to a new repository, through the same worker.
      const back = await worker.request<CopyResult>(Methods.copy, { source: `oci:${destination.dir}:copied`, destination: `${registry.host}/multi/again:v1`, credentials: credentials() });
      assert.equal(back.descriptor.digest, result.descriptor.digest);
      const verified = await worker.request<VerifyResult>(Methods.verify, { reference: `${registry.host}/multi/again:v1`, credentials: credentials() });
      assert.equal(verified.ok, true);
      assert.equal(verified.blobs, imageBlobs.length);
    } finally {
      await worker.stop();
    }
  });

  it('answers a cancelled copy only after cleanup, with no temporary file and no partial manifest', async () => {
    const worker = client();
    const destination = await tempLayout();
    const before = await leftovers(destination.dir);
    const controller = new AbortController();
    try {
      const copying = worker.request(Methods.copy, { source: big, destination: `oci:${destination.dir}:never`, credentials: credentials() }, {
        signal: controller.signal,
        onProgress: (v) => {
          if (v.kind === 'report' && v.done > 0) controller.abort();
        },
      });
      await assert.rejects(copying, { code: 'CANCELLED' });
      assert.deepEqual((await destination.readIndex()).manifests, []);
      assert.deepEqual(await leftovers(destination.dir), before);
      // Blobs finished before the cancellation (the config) may stay; they are whole. The big
      // layer is not there at all, not even in part.
      for (const name of await readdir(join(destination.dir, 'blobs', 'sha256'))) {
        assert.equal(createHash('sha256').update(await readFile(join(destination.dir, 'blobs', 'sha256', name))).digest('hex'), name);
      }
    } finally {
      await worker.stop();
    }
  });

  it('converts a registry image to eStargz with one progress item per layer; a cancelled conversion tags nothing', async () => {
    const worker = client();
    const progress: ProgressValue[] = [];
    const stores = new Stores({ credentials: credentialsFor(registry) });
    try {
      const result = await worker.request<ConvertResult>(Methods.convert, {
        source: `${registry.host}/multi/layer:v1`, destination: `${registry.host}/multi/layer:v1-esgz`, format: 'estargz', prioritized: ['/bin/hello'], credentials: credentials(),
      }, { onProgress: (v) => progress.push(v) });
      const layers = imageBlobs.slice(1);
      assert.deepEqual(result.layers.map((l) => l.source), layers.map((l) => l.digest));
      const last = progress.filter((v) => v.kind === 'report').at(-1);
      assert.ok(last && last.kind === 'report');
      assert.deepEqual(last.items.map((i) => [i.id, i.label, i.done, i.total]), layers.map((l, i) => [l.digest, `layer ${i + 1}/${layers.length}`, l.size, l.size]));
      const verified = await worker.request<VerifyResult>(Methods.verify, { reference: `${registry.host}/multi/layer:v1-esgz`, credentials: credentials() });
      assert.equal(verified.ok, true);
      assert.deepEqual(verified.layers.map((l) => [l.lazy.format, l.lazy.lazy, l.lazy.tocDigest]), result.layers.map((l) => ['estargz', true, l.tocDigest]));
      assert.equal(verified.layers[0]?.lazy.layout?.prefetch.kind, 'landmark');

      const conversionFolders = async (): Promise<string[]> => (await readdir(tmpdir())).filter((n) => n.startsWith('lazyimg-convert-'));
      const foldersBefore = await conversionFolders();
      const controller = new AbortController();
      const converting = worker.request(Methods.convert, { source: big, destination: `${registry.host}/big/image:never`, format: 'estargz', credentials: credentials() }, {
        signal: controller.signal,
        onProgress: (v) => {
          if (v.kind === 'report' && v.done > 0) controller.abort();
        },
      });
      await assert.rejects(converting, { code: 'CANCELLED' });
      await assert.rejects((await stores.open(parseReference(`${registry.host}/big/image`))).resolve('never'), { code: 'NOT_FOUND' });
      assert.deepEqual(await conversionFolders(), foldersBefore, 'no conversion folder left');
    } finally {
      await stores.close();
      await worker.stop();
    }
  });

  it('ends a conversion whose source is already eStargz: the tail of each layer (TOC, footer) is never read, and no connection waits for it', async () => {
    const worker = client();
    try {
      const esgz = `${registry.host}/multi/layer:twice-esgz`;
      await worker.request<ConvertResult>(Methods.convert, { source: `${registry.host}/multi/layer:v1`, destination: esgz, format: 'estargz', credentials: credentials() });
      // The converter stops reading an eStargz source at the end of its tar and reads it again
      // in a second pass; the answer comes only once the job's registry connections are closed.
      const again = await worker.request<ConvertResult>(Methods.convert, { source: esgz, destination: `${esgz}-again`, format: 'estargz', credentials: credentials() });
      assert.equal(again.layers.length, imageBlobs.length - 1);
    } finally {
      await worker.stop();
    }
  });

  it('converts with a startup profile as convert --prioritize-file does: each file first in the layer it was recorded from', async () => {
    const worker = client();
    const layout = await tempLayout();
    const text = (name: string, body: string): TarEntry => ({ name, type: 'file', mode: 0o644, content: Buffer.from(body) });
    // etc/motd is in both layers; the workload read the top one's.
    const image = await writeImage(layout, [
      { entries: [{ name: 'etc', type: 'directory' }, text('etc/motd', 'base\n'), text('etc/hostname', 'box\n')] },
      { entries: [{ name: 'etc', type: 'directory' }, text('etc/motd', 'top\n')] },
    ], { tag: 'v1' });
    const [base, top] = image.layers;
    assert.ok(base && top);
    const profile: StartupProfile = {
      kind: PROFILE_KIND, version: PROFILE_VERSION, image: { manifest: image.manifest.digest, layers: [base.digest, top.digest] },
      run: { args: ['/bin/sh'], env: [], cwd: '/', user: '0', network: false, periodSeconds: 10, seconds: 0.1, exitCode: 0, stopped: false },
      files: [{ path: 'etc/motd', layer: 2, digest: top.digest, size: 4, how: 'open' }, { path: 'etc/hostname', layer: 1, digest: base.digest, size: 4, how: 'open' }],
    };
    const params = { source: `oci:${layout.dir}:v1`, destination: `oci:${layout.dir}:v1-esgz`, format: 'estargz', startupProfile: profile };
    const schema = JSON.parse(await readFile(resolve(__dirname, '..', '..', '..', 'docs', 'worker-protocol.schema.json'), 'utf8')) as { $id: string };
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
    ajv.addSchema(schema);
    const validate = ajv.getSchema(`${schema.$id}#/$defs/ConvertParams`)!;
    assert.ok(validate(params), ajv.errorsText(validate.errors));
    try {
      const result = await worker.request<ConvertResult>(Methods.convert, params);
      assert.deepEqual(result.missing, []);
      const prefetched = async (layer: number): Promise<string[]> => {
        const { toc } = await readLayerToc(layout, 'v1-esgz', String(layer));
        const landmark = toc.entries.findIndex((e) => e.name === PREFETCH_LANDMARK);
        return landmark < 0 ? [] : toc.entries.slice(0, landmark).filter((e) => e.type === 'reg').map((e) => e.name);
      };
      // Given as `prioritized`, etc/motd would go first in the base layer too.
      assert.deepEqual(await prefetched(1), ['etc/hostname']);
      assert.deepEqual(await prefetched(2), ['etc/motd']);
      await assert.rejects(worker.request(Methods.convert, { ...params, destination: `oci:${layout.dir}:bad`, startupProfile: { ...profile, kind: 'something else' } }), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INVALID_ARGUMENT');
        assert.match(e.message, /params\.startupProfile is not a startup profile \(the profile: not a startup profile/);
        return true;
      });
    } finally {
      await worker.stop();
    }
  });

  it('reports a worker killed mid-job as a failure, and runs the next job on a fresh worker', async () => {
    const exits: string[] = [];
    const worker = new WorkerClient({ worker: { command: process.execPath, args: [WORKER] }, clientName: 'worker-test', onExit: (reason, expected) => exits.push(`${expected}:${reason}`) });
    const destination = await tempLayout();
    try {
      await worker.start();
      const firstPid = worker.pid;
      const copying = worker.request(Methods.copy, { source: big, destination: `oci:${destination.dir}:killed`, credentials: credentials() }, {
        onProgress: (v) => {
          if (v.kind === 'report' && v.done > 0 && firstPid) process.kill(firstPid, 'SIGKILL');
        },
      });
      await assert.rejects(copying, (e: Error & { code?: string }) => {
        assert.equal(e.code, 'INTERNAL');
        assert.match(e.message, /worker stopped during lazyimg\/copy: it was killed by SIGKILL/);
        return true;
      });
      assert.deepEqual(exits, ['false:it was killed by SIGKILL']);
      const again = await worker.request<CopyResult>(Methods.copy, { source: `${registry.host}/multi/layer:v1`, destination: `oci:${destination.dir}:after`, credentials: credentials() });
      assert.notEqual(worker.pid, firstPid);
      assert.equal((await destination.resolve('after')).digest, again.descriptor.digest);
      assert.deepEqual((await destination.readIndex()).manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']), ['after']);
    } finally {
      await worker.stop();
    }
  });

  it('runs no more jobs at once than the client asked for', async () => {
    const worker = client(1);
    const events: string[] = [];
    try {
      const info = await worker.start();
      assert.equal(info.capabilities.maxConcurrentJobs, 1);
      await Promise.all([1, 2].map(async (n) => {
        const destination = await tempLayout();
        await worker.request(Methods.copy, { source: `${registry.host}/multi/layer:v1`, destination: `oci:${destination.dir}:v1`, credentials: credentials() }, {
          onProgress: (v) => {
            if (v.kind !== 'report') events.push(`${v.kind}${n}`);
          },
        });
      }));
      assert.ok(['begin1,end1,begin2,end2', 'begin2,end2,begin1,end1'].includes(events.join(',')), events.join(','));
    } finally {
      await worker.stop();
    }
  });

  it('rejects bad params before taking a job slot, so they cannot block later jobs', async () => {
    const worker = client(1);
    try {
      for (let i = 0; i < 3; i++) {
        await assert.rejects(worker.request(Methods.inspect, { reference: `${registry.host}/multi/layer:v1`, credentials: 'not a list' }), { code: 'INVALID_ARGUMENT' });
      }
      const result = await worker.request<{ digest: string }>(Methods.inspect, { reference: `${registry.host}/multi/layer:v1`, credentials: credentials() });
      assert.match(result.digest, /^sha256:/);
    } finally {
      await worker.stop();
    }
  });

  it('turns a wrong password into an authentication error carrying the registry', async () => {
    const worker = client();
    try {
      await assert.rejects(
        worker.request(Methods.inspect, { reference: `${registry.host}/multi/layer:v1`, credentials: [{ registry: registry.host, username: registry.username, password: 'wrong' }] }),
        (e: Error & { code?: string }) => e.code === 'UNAUTHORIZED' && /rejected/.test(e.message) && !e.message.includes(registry.password),
      );
    } finally {
      await worker.stop();
    }
  });

  it('passes the conformance suite; a broken worker fails it', async () => {
    const ours = await runCli(['worker-conformance', '--', process.execPath, WORKER]);
    assert.equal(ours.code, 0, ours.stdout + ours.stderr);
    assert.equal((ours.stdout.match(/\| pass \|/g) ?? []).length, 17, ours.stdout);
    const broken = await runCli(['worker-conformance', '--timeout', '5', '--', process.execPath, BROKEN_WORKER]);
    assert.equal(broken.code, 1);
    for (const scenario of ['unknown method', 'malformed frame', 'progress order', 'cancellation', 'shutdown and exit']) {
      assert.match(broken.stdout, new RegExp(`\\| ${scenario} \\| FAIL \\|`), broken.stdout);
    }
    // It does not offer convert, index or batch: those scenarios are skipped, not failed.
    assert.match(broken.stdout, /\| convert to eStargz \| skip \|/, broken.stdout);
    assert.match(broken.stdout, /\| build a SOCI index \| skip \|/, broken.stdout);
    assert.match(broken.stdout, /\| batch \| skip \|/, broken.stdout);
    assert.match(broken.stderr, /conformance scenarios failed/);
  });

  it('keeps credentials out of its command line, environment and log', async () => {
    const lines: string[] = [];
    const worker = new WorkerClient({ worker: { command: process.execPath, args: [WORKER] }, clientName: 'worker-test', onLog: (l) => lines.push(l) });
    try {
      await worker.start();
      const pid = worker.pid as number;
      await assert.rejects(worker.request(Methods.copy, { source: `${registry.host}/nope/missing:v1`, destination: 'oci:/nonexistent/dir:v1', credentials: credentials() }));
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
      for (const text of [cmdline, environ, lines.join('\n')]) assert.ok(!text.includes(registry.password));
      assert.ok(lines.length > 0, 'the failure was logged');
    } finally {
      await worker.stop();
    }
  });
});
