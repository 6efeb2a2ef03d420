// `lazyimg optimize` on bad input, with real runc and the Debian base image: a workload that never
// exits is stopped when its period ends; a command that is not in the image fails with runc's own
// message; no runc fails before anything is read; without root the workload runs rootless, and an
// image user a rootless container cannot have is refused; Ctrl-C stops the container. After each,
// nothing is left: no folder in the CLI's TMPDIR, no mount, no process, no cgroup.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ImageIndex } from '../../src/core/oci/index.js';
import type { StartupProfile } from '../../src/core/optimize/index.js';
import { requireTool } from '../helpers/tools.js';
import { CLI, runCli } from './fixtures/cli.js';
import { leftovers } from './fixtures/leftovers.js';

const run = promisify(execFile);
const BASE = join(process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images'), 'base-bookworm', 'layout');

describe('lazyimg optimize on bad input', { timeout: 600_000 }, () => {
  const image = `oci:${BASE}:bookworm`;
  let dir: string;
  let tmp: string;
  let out: string;
  let runs = 0;
  /** Each run writes to a layout of its own. */
  const optimize = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> => runCli(['optimize', image, `oci:${out}-${++runs}:x`, '--level', '1', ...args], { TMPDIR: tmp, ...env });

  before(async () => {
    for (const tool of ['runc', 'strace']) requireTool(tool, `apt-get install ${tool}`);
    if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh (.ci/run does)`);
    dir = await mkdtemp(join(tmpdir(), 'lazyimg-optimize-bad-'));
    tmp = join(dir, 'tmp');
    out = join(dir, 'out');
    await mkdir(tmp, { mode: 0o1777 });
    await chmod(dir, 0o755);
    await chmod(tmp, 0o1777);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stops a workload that never exits when its period ends, and records what it read until then', async () => {
    const r = await optimize(['--entrypoint', '["sh","-c","echo started; exec sleep 4321"]', '--period', '5', '--record-out', join(dir, 'period.json')]);
    assert.equal(r.code, 0, r.stderr);
    // 5 s: the period starts with the tracer, and runc must have the workload at sleep by its end.
    assert.match(r.stdout, /stopped after the 5 s period/);
    assert.match(r.stderr, /started/);
    const profile = JSON.parse(await readFile(join(dir, 'period.json'), 'utf8')) as StartupProfile;
    assert.equal(profile.run.stopped, true);
    assert.equal(profile.run.exitCode, undefined);
    assert.ok(profile.run.seconds >= 5, `ran ${profile.run.seconds} s`);
    assert.deepEqual(profile.files.map((f) => f.path).filter((p) => p.startsWith('usr/bin/')), ['usr/bin/dash', 'usr/bin/sleep']);
    assert.deepEqual(await leftovers(tmp, 'sleep\x004321'), []);
  });

  it('fails with the runtime\'s message when the command is not in the image', async () => {
    const r = await optimize(['--entrypoint', '["no-such-program","--flag"]']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /lazyimg: Cannot run \["no-such-program","--flag"\] in oci:.*: runc run failed: unable to start container process: exec: "no-such-program": executable file not found in \$PATH/);
    const index = join(`${out}-${runs}`, 'index.json');
    assert.equal(existsSync(index) && (JSON.parse(await readFile(index, 'utf8')) as ImageIndex).manifests.length > 0, false, 'nothing tagged');
    assert.deepEqual(await leftovers(tmp, 'no-such-program'), []);
  });

  it('fails clearly without runc: not on PATH, or not where --runtime says', async () => {
    // A PATH with the other tools a run needs, and no runc.
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    for (const tool of ['strace', 'mount', 'umount']) await symlink(requireTool(tool, `apt-get install ${tool}`), join(bin, tool)).catch(() => undefined);
    const noPath = await optimize([], { PATH: bin });
    assert.equal(noPath.code, 1);
    assert.match(noPath.stderr, new RegExp(`lazyimg: Cannot find the container runtime: no runc on PATH \\(${bin}\\); install runc \\(apt-get install runc\\) or name it with --runtime`));
    const named = await optimize(['--runtime', join(dir, 'no', 'runc')]);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /lazyimg: Cannot find the container runtime: .*\/no\/runc is not an executable file/);
  });

  it('without root, runs the workload rootless and records what root records; an image user it cannot map is refused, saying why', async () => {
    // A copy of the image that another user may read.
    const readable = join(dir, 'readable');
    await cp(BASE, readable, { recursive: true });
    await run('chmod', ['-R', 'a+rX', readable]);
    const workload = ['--entrypoint', '["sh","-c","cat /etc/os-release > /dev/null"]'];
    const asRoot = await optimize([...workload, '--record-out', join(dir, 'root.json')]);
    assert.equal(asRoot.code, 0, asRoot.stderr);
    const nobody = (args: string[]): Promise<{ code: number; stderr: string }> => run('setpriv', [
      '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'optimize', `oci:${readable}:bookworm`, `oci:${join(tmp, 'nobody')}:x`, '--level', '1', ...args,
    ], { env: { ...process.env, TMPDIR: tmp } }).then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    const rootless = await nobody([...workload, '--record-out', join(tmp, 'nobody.json')]);
    assert.equal(rootless.code, 0, rootless.stderr);
    const files = async (profile: string): Promise<string[]> => (JSON.parse(await readFile(profile, 'utf8')) as StartupProfile).files.map((f) => f.path);
    assert.deepEqual(await files(join(tmp, 'nobody.json')), await files(join(dir, 'root.json')));
    assert.ok((await files(join(dir, 'root.json'))).includes('usr/lib/os-release'));
    const refused = await nobody(['--entrypoint', '["id"]', '--user', 'www-data']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /lazyimg: Cannot run the workload of .* as www-data \(uid 33, gid 33\) without root: a rootless container has one user, its root; run lazyimg as root, or pass --user 0/);
    await rm(join(tmp, 'nobody'), { recursive: true, force: true });
    await rm(join(tmp, 'nobody.json'));
    assert.deepEqual(await leftovers(tmp, 'os-release'), []);
  });

  it('stops the container and leaves nothing behind when cancelled (Ctrl-C)', async () => {
    const child = spawn(process.execPath, [CLI, 'optimize', image, `oci:${out}:x`, '--entrypoint', '["sh","-c","echo started; exec sleep 5432"]', '--period', '600'], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.once('close', done));
    await new Promise<void>((started, failed) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('started')) started();
      });
      void exited.then(() => failed(new Error(`the CLI ended before the workload started: ${stderr}`)));
    });
    try {
      // "started" is printed by the shell just before it execs the sleep.
      const deadline = Date.now() + 30_000;
      while (!(await leftovers(tmp, 'sleep\x005432')).some((l) => l.startsWith('process '))) {
        assert.ok(Date.now() < deadline, 'the workload never ran');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 1, stderr);
    assert.match(stderr, /lazyimg: Cancelled/);
    assert.deepEqual(await leftovers(tmp, 'sleep\x005432'), []);
  });
});
