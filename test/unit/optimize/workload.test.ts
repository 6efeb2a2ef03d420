import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { LazyImageError } from '../../../src/core/errors.js';
import type { ImageConfig } from '../../../src/core/oci/index.js';
import { resolveWorkload, type WorkloadOverrides } from '../../../src/core/optimize/workload.js';
import { useTempDirs } from '../helpers/tmp.js';

const tempDir = useTempDirs('lazyimg-workload-');

const config = (c: ImageConfig['config']): ImageConfig => ({ rootfs: { type: 'layers', diff_ids: [] }, config: c });
const IMAGE = config({ Entrypoint: ['/entry'], Cmd: ['serve', '--port', '80'], Env: ['PATH=/bin', 'LANG=C'], WorkingDir: '/srv', User: 'app' });

describe('resolveWorkload', () => {
  let root: string;
  before(async () => {
    root = await tempDir();
    // /etc is a link, as some images have it: the account files are found through it.
    await mkdir(join(root, 'real-etc'));
    await symlink('real-etc', join(root, 'etc'));
    await writeFile(join(root, 'real-etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n# comment\napp:x:1000:1000::/home/app:/bin/sh\nweb:x:33:33::/var/www:/bin/sh\n');
    await writeFile(join(root, 'real-etc', 'group'), 'root:x:0:\nstaff:x:50:app,web\napp:x:1000:\nvideo:x:44:app\n');
  });

  const cases: Array<{ name: string; config?: ImageConfig; overrides: WorkloadOverrides; want: object }> = [
    { name: 'the image\'s own', overrides: {}, want: { args: ['/entry', 'serve', '--port', '80'], env: ['PATH=/bin', 'LANG=C'], cwd: '/srv', userName: 'app', user: { uid: 1000, gid: 1000, additionalGids: [50, 44] } } },
    { name: 'a new entrypoint drops the image\'s command', overrides: { entrypoint: ['/bin/sh', '-c', 'x'] }, want: { args: ['/bin/sh', '-c', 'x'] } },
    { name: 'new args keep the entrypoint', overrides: { args: ['check'] }, want: { args: ['/entry', 'check'] } },
    { name: 'both', overrides: { entrypoint: ['/a'], args: ['b'] }, want: { args: ['/a', 'b'] } },
    { name: 'env added and replaced', overrides: { env: ['LANG=C.UTF-8', 'X=a=b'] }, want: { env: ['PATH=/bin', 'LANG=C.UTF-8', 'X=a=b'] } },
    { name: 'no PATH in the image: docker\'s', config: config({ Cmd: ['x'] }), overrides: {}, want: { env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], cwd: '/', userName: '0', user: { uid: 0, gid: 0, additionalGids: [] } } },
    { name: 'user:group by name', overrides: { user: 'web:staff' }, want: { user: { uid: 33, gid: 50, additionalGids: [] } } },
    { name: 'numeric IDs need no account', overrides: { user: '4242:7' }, want: { user: { uid: 4242, gid: 7, additionalGids: [] } } },
    { name: 'a numeric user with an account gets its group', overrides: { user: '33' }, want: { user: { uid: 33, gid: 33, additionalGids: [50] } } },
    { name: 'the folder normalized', overrides: { cwd: '/srv/../opt/' }, want: { cwd: '/opt/' } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const got = await resolveWorkload(c.config ?? IMAGE, c.overrides, root, 'img');
      for (const [key, value] of Object.entries(c.want)) assert.deepEqual(got[key as keyof typeof got], value, key);
    });
  }

  const failures: Array<{ name: string; config?: ImageConfig; overrides: WorkloadOverrides; code: string; message: RegExp }> = [
    { name: 'nothing to run', config: config({}), overrides: {}, code: 'INVALID_ARGUMENT', message: /no entrypoint and no command/ },
    { name: 'an unknown user', overrides: { user: 'nobody' }, code: 'NOT_FOUND', message: /no user nobody in the image's \/etc\/passwd/ },
    { name: 'an unknown group', overrides: { user: 'app:wheel' }, code: 'NOT_FOUND', message: /no group wheel/ },
    { name: 'env without =', overrides: { env: ['JUSTKEY'] }, code: 'INVALID_ARGUMENT', message: /--env JUSTKEY is not KEY=VALUE/ },
    { name: 'a relative folder', overrides: { cwd: 'srv' }, code: 'INVALID_ARGUMENT', message: /working folder srv is not absolute/ },
  ];
  for (const f of failures) {
    it(`refuses ${f.name}`, async () => {
      await assert.rejects(resolveWorkload(f.config ?? IMAGE, f.overrides, root, 'img'), (e: unknown) => e instanceof LazyImageError && e.code === f.code && f.message.test(e.message) && e.message.includes('img'));
    });
  }
});
