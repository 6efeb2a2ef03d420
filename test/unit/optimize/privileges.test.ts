import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { LazyImageError } from '../../../src/core/errors.js';
import { privileges } from '../../../src/core/optimize/privileges.js';
import { useTempDirs } from '../helpers/tmp.js';

const tempDir = useTempDirs('lazyimg-privileges-');

/** A /proc with the given settings. */
async function proc(settings: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  for (const [file, value] of Object.entries(settings)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), `${value}\n`);
  }
  return dir;
}

describe('privileges', () => {
  it('is root for root, whatever the settings', async () => {
    assert.deepEqual(await privileges('img', { uid: 0, gid: 0 }, await proc({ 'sys/user/max_user_namespaces': '0' })), { kind: 'root' });
  });

  it('is rootless for another user where user namespaces are allowed, or not mentioned', async () => {
    const allowed = await proc({ 'sys/user/max_user_namespaces': '96369', 'sys/kernel/unprivileged_userns_clone': '1', 'sys/kernel/apparmor_restrict_unprivileged_userns': '0' });
    assert.deepEqual(await privileges('img', { uid: 1000, gid: 100 }, allowed), { kind: 'rootless', uid: 1000, gid: 100 });
    assert.deepEqual(await privileges('img', { uid: 1000, gid: 100 }, await proc({})), { kind: 'rootless', uid: 1000, gid: 100 });
  });

  const forbidding: Array<[string, string, string]> = [
    ['sys/user/max_user_namespaces', '0', 'user.max_user_namespaces = 0'],
    ['sys/kernel/unprivileged_userns_clone', '0', 'kernel.unprivileged_userns_clone = 0'],
    ['sys/kernel/apparmor_restrict_unprivileged_userns', '1', 'kernel.apparmor_restrict_unprivileged_userns = 1'],
  ];
  for (const [file, value, named] of forbidding) {
    it(`fails clearly for another user when ${named}`, async () => {
      await assert.rejects(privileges('oci:/x:y', { uid: 1000, gid: 100 }, await proc({ [file]: value })), (e: unknown) =>
        e instanceof LazyImageError && e.code === 'UNSUPPORTED' && e.message === `Cannot run the workload of oci:/x:y: not root, and this system lets no user but root make user namespaces (${named}), which rootless runc needs; run lazyimg as root`);
    });
  }
});
