// The lock file between writers of a layout: one holder at a time, stale locks recovered (a dead
// holder, a recycled pid, a holder that never wrote its name), live ones waited for, and a
// clear error when waiting is over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withFileLock } from '../../src/core/oci/lock.js';
import { currentOwner, liveness, ownerTag, parseOwnerTag } from '../../src/core/oci/owner.js';
import { assertRejectsCode } from './helpers/errors.js';
import { useTempDirs } from './helpers/tmp.js';

const tempDir = useTempDirs('lazyimg-lock-');

/** The pid of a process that has ended (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

function lockText(fields: Partial<{ pid: number; start: string; host: string; nonce: string }>): string {
  return JSON.stringify({ ...currentOwner(), nonce: 'feedfacefeedface', since: '2025-01-01T00:00:00.000Z', ...fields });
}

/** Runs `n` holders of one lock at once; fails if two are ever inside together. */
async function contend(path: string, n: number): Promise<void> {
  let inside = 0;
  let most = 0;
  await Promise.all(Array.from({ length: n }, () => withFileLock(path, async () => {
    most = Math.max(most, ++inside);
    await new Promise((r) => setTimeout(r, 2));
    inside--;
  })));
  assert.equal(most, 1);
}

describe('process owners', () => {
  it('knows this process alive, an ended one dead, and one of another host unknown', async () => {
    const self = currentOwner();
    assert.equal(liveness(self), 'alive');
    assert.equal(liveness({ ...self, pid: await deadPid() }), 'dead');
    assert.equal(liveness({ ...self, host: '00000000' === self.host ? '11111111' : '00000000' }), 'unknown');
  });

  it('takes a live pid with another start time for a recycled pid: dead', { skip: process.platform !== 'linux' && 'start times come from /proc' }, () => {
    const self = currentOwner();
    assert.match(self.start, /^\d+$/);
    assert.equal(liveness({ ...self, start: String(Number(self.start) + 1) }), 'dead');
  });

  it('writes and reads owners in file names', () => {
    const self = currentOwner();
    assert.deepEqual(parseOwnerTag(ownerTag(self)), self);
    assert.equal(parseOwnerTag('0123456789abcdef'), undefined);
  });
});

describe('withFileLock', () => {
  it('lets one holder in at a time and removes the lock after', async () => {
    const dir = await tempDir();
    await contend(join(dir, 'lock'), 20);
    assert.deepEqual(await readdir(dir), []);
  });

  it('releases the lock when the work fails', async () => {
    const dir = await tempDir();
    await assert.rejects(withFileLock(join(dir, 'lock'), async () => {
      throw new Error('boom');
    }), /boom/);
    assert.deepEqual(await readdir(dir), []);
  });

  const stale = [
    { name: 'a dead pid', text: async () => lockText({ pid: await deadPid() }) },
    { name: 'a live pid that is another process (recycled)', text: async () => lockText({ start: '1' }), linuxOnly: true },
    { name: 'no name in it for over 10 s', text: async () => '', age: 60 },
    { name: 'a holder on another host, for over 10 minutes', text: async () => lockText({ host: 'ffffffff' }), age: 3600 },
  ];
  for (const c of stale) {
    it(`recovers a lock held by ${c.name}, once among many waiters`, { skip: c.linuxOnly && process.platform !== 'linux' && 'start times come from /proc' }, async () => {
      const dir = await tempDir();
      const path = join(dir, 'lock');
      await writeFile(path, await c.text());
      if (c.age) await utimes(path, new Date(Date.now() - c.age * 1000), new Date(Date.now() - c.age * 1000));
      const started = Date.now();
      await contend(path, 8);
      assert.ok(Date.now() - started < 5000, 'without waiting for the timeout');
      assert.deepEqual(await readdir(dir), [], 'no lock and no break marker left');
    });
  }

  const live = [
    { name: 'this very process', text: () => lockText({}), holder: `process ${process.pid} since 2025-01-01` },
    { name: 'a process that has not written its name yet', text: () => '', holder: 'has not written its name' },
    { name: 'a process on another host', text: () => lockText({ host: 'ffffffff' }), holder: 'of another machine' },
  ];
  for (const c of live) {
    it(`waits for a lock held by ${c.name}, then names the lock file and its holder`, async () => {
      const dir = await tempDir();
      const path = join(dir, 'lock');
      await writeFile(path, c.text());
      let ran = false;
      await assertRejectsCode(withFileLock(path, async () => (ran = true), { timeoutMs: 300, what: 'index.json of oci:x' }), {
        code: 'TIMEOUT',
        includes: ['Cannot update index.json of oci:x', path, c.holder, 'remove that file'],
      });
      assert.equal(ran, false);
      assert.deepEqual(await readdir(dir), ['lock'], 'a live holder\'s lock stays');
    });
  }

  it('stops waiting when cancelled', async () => {
    const dir = await tempDir();
    const path = join(dir, 'lock');
    await writeFile(path, lockText({}));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await assertRejectsCode(withFileLock(path, async () => undefined, { signal: controller.signal }), { code: 'CANCELLED' });
  });
});
