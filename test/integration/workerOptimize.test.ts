// The worker's `lazyimg/optimize` over real pipes, on the Debian base image with real runc: progress
// through unpacking, the run and the conversion, a result that matches the protocol's schema, and
// a cancellation during the run that stops the container and leaves nothing behind.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { WorkerClient } from '../../src/worker/client.js';
import { Methods, type OptimizeResult, type ProgressValue } from '../../src/worker/protocol.js';
import { requireTool } from '../helpers/tools.js';
import { leftovers } from './fixtures/leftovers.js';

const ROOT = resolve(__dirname, '..', '..', '..');
const WORKER = join(ROOT, 'dist', 'worker.js');
const BASE = join(process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images'), 'base-bookworm', 'layout');

const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });

function validateResult(): ValidateFunction {
  const schema = JSON.parse(readFileSync(join(ROOT, 'docs', 'worker-protocol.schema.json'), 'utf8')) as { $id: string };
  if (!ajv.getSchema(schema.$id)) ajv.addSchema(schema);
  return ajv.getSchema(`${schema.$id}#/$defs/OptimizeResult`)!;
}

describe('the worker\'s optimize operation', { timeout: 600_000 }, () => {
  let dir: string;
  let tmp: string;
  let worker: WorkerClient;

  before(async () => {
    for (const tool of ['runc', 'strace']) requireTool(tool, `apt-get install ${tool}`);
    if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh (.ci/run does)`);
    dir = await mkdtemp(join(tmpdir(), 'lazyimg-worker-optimize-'));
    tmp = join(dir, 'tmp');
    await mkdir(tmp);
    await chmod(tmp, 0o1777);
    // The worker's temporary folders go where the test can see that none is left.
    worker = new WorkerClient({ worker: { command: process.execPath, args: [WORKER], env: { ...process.env, TMPDIR: tmp } }, clientName: 'optimize-test' });
  });
  after(async () => {
    await worker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reports unpacking, the run and the conversion, and answers with the recording', async () => {
    const progress: ProgressValue[] = [];
    const result = await worker.request<OptimizeResult>(Methods.optimize, {
      source: `oci:${BASE}:bookworm`, destination: `oci:${join(dir, 'out')}:opt`, entrypoint: ['sh', '-c', 'cat /etc/os-release > /dev/null; echo done'], level: 1, periodSeconds: 30,
    }, { onProgress: (v) => progress.push(v) });
    const validate = validateResult();
    assert.ok(validate(result), ajv.errorsText(validate.errors));
    assert.ok(result.format === 'estargz');
    assert.deepEqual(result.profile.files.map((f) => [f.path, f.how]), [
      ['usr/bin/dash', 'exec'], ['usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'interpreter'], ['etc/ld.so.cache', 'open'], ['usr/lib/x86_64-linux-gnu/libc.so.6', 'open'],
      ['usr/bin/cat', 'exec'], ['usr/lib/os-release', 'open'],
    ]);
    assert.equal(result.profile.run.exitCode, 0);
    assert.match(result.output, /^done$/m);
    assert.deepEqual(result.missing, []);
    const last = progress.filter((v) => v.kind === 'report').at(-1);
    assert.ok(last?.kind === 'report');
    const layer = result.layers[0]!;
    assert.deepEqual(last.items.map((i) => [i.id, i.label, i.done === i.total]), [
      [`unpack:${layer.source}`, 'unpack layer 1/1', true], ['workload', 'run the workload (ms)', true], [layer.source, 'layer 1/1', true],
    ]);
    assert.equal(last.items[1]!.total, 30_000);
  });

  it('with format soci, indexes the image with the recorded files to prefetch, and refuses eStargz params', async () => {
    const progress: ProgressValue[] = [];
    const result = await worker.request<OptimizeResult>(Methods.optimize, {
      source: `oci:${BASE}:bookworm`, destination: `oci:${join(dir, 'soci')}:soci`, entrypoint: ['sh', '-c', 'cat /etc/os-release > /dev/null; echo done'],
      format: 'soci', spanSize: 65536, periodSeconds: 30,
    }, { onProgress: (v) => progress.push(v) });
    const validate = validateResult();
    assert.ok(validate(result), ajv.errorsText(validate.errors));
    assert.ok(result.format === 'soci');
    assert.equal(result.version, 'v2');
    const prefetch = result.indexes[0]!.prefetch!;
    assert.deepEqual(prefetch.files.map((f) => f.name), result.profile.files.map((f) => f.path));
    assert.deepEqual(prefetch.missing, []);
    assert.equal(prefetch.artifacts.length, 1);
    const layer = result.indexes[0]!.layers[0]!.digest;
    const last = progress.filter((v) => v.kind === 'report').at(-1);
    assert.ok(last?.kind === 'report');
    assert.deepEqual(last.items.map((i) => [i.id, i.label, i.done === i.total]), [
      [`unpack:${layer}`, 'unpack layer 1/1', true], ['workload', 'run the workload (ms)', true], [layer, 'layer 1/1', true],
    ]);
    await assert.rejects(worker.request(Methods.optimize, {
      source: `oci:${BASE}:bookworm`, destination: `oci:${join(dir, 'soci')}:never`, format: 'soci', chunkSize: 4096,
    }), { code: 'INVALID_ARGUMENT', message: /chunkSize does not apply to the soci format/ });
  });

  it('stops the container when cancelled during the run, and leaves nothing behind', async () => {
    const controller = new AbortController();
    const running = worker.request(Methods.optimize, {
      source: `oci:${BASE}:bookworm`, destination: `oci:${join(dir, 'out')}:never`, entrypoint: ['sleep', '6543'], periodSeconds: 600,
    }, {
      signal: controller.signal,
      onProgress: (v) => {
        if (v.kind === 'report' && v.items.some((i) => i.id === 'workload' && i.done > 0)) controller.abort();
      },
    });
    await assert.rejects(running, { code: 'CANCELLED' });
    assert.deepEqual(await leftovers(tmp, 'sleep\x006543'), []);
    const index = JSON.parse(readFileSync(join(dir, 'out', 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
    assert.deepEqual(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']), ['opt']);
  });
});
