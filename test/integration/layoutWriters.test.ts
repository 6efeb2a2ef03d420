// Many processes writing one OCI layout at once, as a user gets them: `lazyimg copy` runs in
// terminals beside jobs of the editor's workers. Every tag must survive, every image must verify,
// and a writer killed while holding the layout's lock must not block the next one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forEachLimit } from '../../src/core/pool.js';
import { ANNOTATION_REF_NAME, LAYOUT_LOCK, OciLayoutStore } from '../../src/core/oci/index.js';
import { WorkerClient } from '../../src/worker/client.js';
import { Methods } from '../../src/worker/protocol.js';
import { sampleLayout } from '../helpers/images.js';
import { runCli } from './fixtures/cli.js';

const WORKER = resolve(__dirname, '..', '..', '..', 'dist', 'worker.js');
const LOCK_MODULE = resolve(__dirname, '..', '..', 'src', 'core', 'oci', 'lock.js');

function worker(maxConcurrentJobs: number): WorkerClient {
  return new WorkerClient({ worker: { command: process.execPath, args: [WORKER] }, clientName: 'layout-writers-test', maxConcurrentJobs });
}

async function tagsOf(dir: string): Promise<string[]> {
  const index = await (await OciLayoutStore.open(dir)).readIndex();
  return index.manifests.map((m) => m.annotations?.[ANNOTATION_REF_NAME] ?? '(untagged)').sort();
}

describe('one OCI layout, many writing processes', { timeout: 600_000 }, () => {
  let source: string;
  let work: string;

  before(async () => {
    source = `oci:${(await sampleLayout()).dir}:sample`;
    work = await mkdtemp(join(tmpdir(), 'lazyimg-writers-'));
  });

  it('keeps all 20 tags that 10 CLI copies and 10 jobs of 2 workers write at once into a new layout, and each verifies', async () => {
    const dir = join(work, 'shared');
    const workers = [worker(5), worker(5)];
    try {
      await Promise.all(workers.map((w) => w.start()));
      const tags = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`);
      const started = Date.now();
      await Promise.all(tags.map(async (tag, i) => {
        const destination = `oci:${dir}:${tag}`;
        if (i % 2 === 0) {
          const r = await runCli(['copy', source, destination]);
          assert.equal(r.code, 0, `${tag}: ${r.stderr}`);
        } else {
          await workers[(i >> 1) % 2]!.request(Methods.copy, { source, destination, credentials: [] });
        }
      }));
      const copied = Date.now() - started;
      assert.deepEqual(await tagsOf(dir), tags);
      await forEachLimit(tags, 4, async (tag) => {
        const r = await runCli(['verify', `oci:${dir}:${tag}`]);
        assert.equal(r.code, 0, `${tag}: ${r.stdout}${r.stderr}`);
      });
      // Nothing left behind: no temporary file, no lock.
      assert.deepEqual((await readdir(dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
      process.stderr.write(`# 20 writers took ${copied} ms\n`);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });

  it('recovers the lock of a writer killed while holding it, and the next copy succeeds', async () => {
    const dir = join(work, 'killed');
    const first = await runCli(['copy', source, `oci:${dir}:before`]);
    assert.equal(first.code, 0, first.stderr);
    // A process that takes the layout's lock the way a writer does, then is killed holding it.
    const holder = spawn(process.execPath, ['-e', `
      const { withFileLock } = require(${JSON.stringify(LOCK_MODULE)});
      withFileLock(${JSON.stringify(join(dir, LAYOUT_LOCK))}, () => { process.stdout.write('held\\n'); return new Promise(() => setInterval(() => {}, 1000)); });
    `], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [chunk] = (await once(holder.stdout, 'data')) as [Buffer];
    assert.equal(chunk.toString(), 'held\n');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    assert.ok((await readdir(dir)).includes(LAYOUT_LOCK), 'the killed writer left its lock');
    const started = Date.now();
    const next = await runCli(['copy', source, `oci:${dir}:after`]);
    assert.equal(next.code, 0, next.stderr);
    assert.ok(Date.now() - started < 30_000, 'recovered without waiting for the timeout');
    assert.deepEqual(await tagsOf(dir), ['after', 'before']);
    assert.deepEqual((await readdir(dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
  });

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });
});
