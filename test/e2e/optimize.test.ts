/// <reference lib="dom" />
// Optimize for Startup... in a real VS Code, with a real runc and strace on the worker (as root):
// on a small runnable image of a workspace layout, the wizard shows the image's own command, takes
// another and a time to watch; the recorded files open as a list in order of first access, with
// layer and size; the profile is saved beside the Dockerfile; the new tag's TOC marks those files
// prefetched. The Dockerfile's lens then converts with the recorded profile, and a run cancelled
// while its workload sleeps leaves no folder, mount, process, cgroup or tag behind.
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatBytes } from '../../src/core/format.js';
import { OciLayoutStore } from '../../src/core/oci/index.js';
import type { StartupProfile } from '../../src/core/optimize/index.js';
import { requireTool } from '../helpers/tools.js';
import { leftovers } from '../integration/fixtures/leftovers.js';
import { hostSize, OS_RELEASE, writeShellImage } from './fixtures/shellImage.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

const DOCKERFILE = `FROM scratch
COPY rootfs/ /
COPY app/ /app/
ENTRYPOINT ["/app/start.sh"]
`;
const COMMAND = '/bin/sh -c \'cat /etc/os-release\'';
/** What that command reads, in order: the shell and its loader and libc, then cat, then the file. */
const RECORDED: Array<[path: string, layer: string, size: number, how: string]> = [
  ['/usr/bin/dash', '1/2', hostSize('/usr/bin/dash'), 'executed'],
  ['/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '1/2', hostSize('/lib64/ld-linux-x86-64.so.2'), 'loaded by the kernel'],
  ['/usr/lib/x86_64-linux-gnu/libc.so.6', '1/2', hostSize('/lib/x86_64-linux-gnu/libc.so.6'), 'opened'],
  ['/usr/bin/cat', '1/2', hostSize('/usr/bin/cat'), 'executed'],
  ['/etc/os-release', '2/2', Buffer.byteLength(OS_RELEASE), 'opened'],
];
const WIZARD = /Enter starts with these options/;

describe('Optimize for Startup...', { timeout: 600_000 }, () => {
  let server: CodeServer;
  let bench: Workbench;
  let layout: string;
  let tmp: string;
  const savedTmpdir = process.env.TMPDIR;

  before(async () => {
    for (const tool of ['runc', 'strace']) requireTool(tool, `apt-get install ${tool}`);
    if (process.getuid?.() !== 0) throw new Error('This test runs the workload as root, as the recorder needs: run it as root');
    // The worker inherits the server's TMPDIR: where a cancelled run must leave nothing.
    tmp = await mkdtemp(join(tmpdir(), 'lazyimg-e2e-optimize-'));
    await chmod(tmp, 0o1777);
    process.env.TMPDIR = tmp;
    server = await startCodeServer({
      prepareWorkspace: async (dir) => {
        layout = join(dir, 'images', 'shell');
        await writeShellImage(await OciLayoutStore.open(layout, { create: true }), 'v1');
        await writeFile(join(dir, 'Dockerfile'), DOCKERFILE);
      },
    });
    bench = await Workbench.open(server, 'optimize');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const wizardRows = (): Promise<string[]> => bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
  const lens = (text: string) => bench.page.locator('.editor-group-container.active .codelens-decoration a', { hasText: text });
  const tags = async (): Promise<Array<string | undefined>> => {
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
    return index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']);
  };

  /** The rows of a tag's layer folder, once its files are listed. */
  const filesOf = async (tag: string, layer: string, folders: string[], file: string): Promise<string[]> => {
    await bench.expand(tag);
    await bench.expand(new RegExp(`^${layer.replace('/', '\\/')}$`));
    for (const folder of folders) await bench.expand(folder);
    const rows = await bench.waitForRows((labels) => labels.some((l) => l.startsWith(`${file} `)));
    return rows;
  };

  it('asks for the command, showing the image\'s own, and the time to watch, then records and lists the files in order', async () => {
    await bench.expand('images/shell');
    await bench.contextMenu('v1', 'Optimize for Startup...');
    await bench.waitForPrompt(WIZARD);
    const defaults = await wizardRows();
    for (const row of [/Record and Convert\s*run it for up to 10 s, then write shell:v1-opt/, /Command\s*\/app\/start\.sh \(the image's\)/, /Time to watch\s*10 s \(default\)/, /Tag\s*v1-opt/, /Network\s*none/]) {
      assert.ok(defaults.some((r) => row.test(r)), `${row} in:\n${defaults.join('\n')}`);
    }
    await bench.screenshot('wizard');
    await bench.pick('Command');
    await bench.waitForPrompt(/command/);
    await bench.answer(COMMAND);
    await bench.waitForPrompt(WIZARD);
    await bench.pick('Time to watch');
    await bench.waitForPrompt(/time to watch/);
    await bench.answer('5');
    await bench.waitForPrompt(WIZARD);
    const chosen = await wizardRows();
    assert.ok(chosen.some((r) => /Command\s*\/bin\/sh -c 'cat \/etc\/os-release'$/.test(r)) && chosen.some((r) => /Time to watch\s*5 s:/.test(r)), chosen.join('\n'));
    await bench.pick('Record and Convert');

    await bench.waitForRows((labels) => labels.some((l) => /^Optimize shell:v1 → v1-opt succeeded · [\d.]+ s · images\/shell$/.test(l)));
    await bench.page.locator('.tab.active', { hasText: 'shell:v1 startup profile' }).waitFor();
    const report = await bench.waitForEditorText(/\| 5 \|/);
    const rows = report.split('\n').filter((l) => /^\| \d+ \|/.test(l));
    assert.deepEqual(rows, RECORDED.map(([path, layer, size, how], i) => `| ${i + 1} | \`${path}\` | ${layer} | ${formatBytes(size)} | ${how} |`), report);
    assert.match(report, /Command: `\/bin\/sh -c 'cat \/etc\/os-release'`, as user `0` in `\/app`, with no network/);
    assert.match(report, /The workload exited with 0 after [\d.]+ s\./);
    assert.match(report, /NAME="Lazy Images shell"/, 'its output');
    await bench.screenshot('recorded');
  });

  it('saves the profile beside the Dockerfile, in the format convert --prioritize-file reads', async () => {
    await bench.notificationButton(/Optimized for startup: .*images\/shell:v1-opt, with the 5 files the workload read first in their layers/, 'Save Profile Next to Dockerfile');
    await bench.statusBar(/Saved Dockerfile\.startup\.json/);
    const profile = JSON.parse(await readFile(join(server.workspace, 'Dockerfile.startup.json'), 'utf8')) as StartupProfile;
    assert.equal(profile.kind, 'lazyimg-startup-profile');
    assert.deepEqual(profile.run.args, ['/bin/sh', '-c', 'cat /etc/os-release']);
    assert.deepEqual(profile.files.map((f) => [`/${f.path}`, `${f.layer}/2`, f.size]), RECORDED.map(([path, layer, size]) => [path, layer, size]));
  });

  it('ends with a new tag whose TOC marks the recorded files prefetched, and no other', async () => {
    const bin = await filesOf('v1-opt', 'layer 1/2', ['usr', 'bin'], 'dash');
    assert.ok(bin.includes(`dash ${formatBytes(RECORDED[0]![2])} · 1 chunk · prefetched`), bin.join('\n'));
    assert.ok(bin.includes(`cat ${formatBytes(RECORDED[3]![2])} · 1 chunk · prefetched`), bin.join('\n'));
    assert.ok(bin.includes(`sleep ${formatBytes(hostSize('/usr/bin/sleep'))} · 1 chunk`), `sleep was not read: ${bin.join('\n')}`);
    assert.ok(bin.some((l) => /^\.prefetch\.landmark /.test(l)), bin.join('\n'));
    await bench.expand('lib');
    await bench.expand('x86_64-linux-gnu');
    const libs = await bench.waitForRows((labels) => labels.some((l) => l.startsWith('libc.so.6 ')));
    assert.ok(libs.includes(`libc.so.6 ${formatBytes(RECORDED[2]![2])} · 1 chunk · prefetched`), libs.join('\n'));
    assert.ok(libs.includes(`ld-linux-x86-64.so.2 ${formatBytes(RECORDED[1]![2])} · 1 chunk · prefetched`), libs.join('\n'));
    await bench.screenshot('toc-layer-1');
    await bench.collapse(/^layer 1\/2$/);
    const etc = await filesOf('v1-opt', 'layer 2/2', ['etc'], 'os-release');
    assert.ok(etc.includes(`os-release ${formatBytes(RECORDED[4]![2])} · 1 chunk · prefetched`), etc.join('\n'));
    await bench.expand('app');
    const app = await bench.waitForRows((labels) => labels.some((l) => l.startsWith('start.sh ')));
    assert.ok(app.some((l) => /^start\.sh .* · 1 chunk$/.test(l)), `start.sh was not read by this command: ${app.join('\n')}`);
    await bench.screenshot('toc-layer-2');
    await bench.collapse('v1-opt');
  });

  it('offers the recorded profile on the Dockerfile\'s prioritize lens, and converts with it', async () => {
    await bench.openFile('Dockerfile');
    await lens('Convert with the recorded startup profile (5 files)').waitFor();
    assert.equal(await lens('Prioritize 1 file for eStargz').count(), 0, 'the recording replaces the guess from the entrypoint');
    await bench.screenshot('lens');
    await bench.click(lens('Convert with the recorded startup profile (5 files)'));
    await bench.waitForPrompt(/Where is the image\?/);
    await bench.pick('images/shell');
    await bench.waitForPrompt(/Which image\?/);
    await bench.pick('oci:'); // the first: v1, in index.json order
    await bench.waitForPrompt(/Convert shell:v1 to eStargz \| .*Enter starts with these options/);
    const options = await wizardRows();
    assert.ok(options.some((o) => /^Prioritized files\s*the startup profile recorded in Dockerfile\.startup\.json: 5 files, each first in the layer it was read from/.test(o)), options.join('\n'));
    await bench.pick('Convert');
    await bench.notification(/Converted to eStargz: .*images\/shell:v1-esgz \(2 layers; the 5 files of Dockerfile\.startup\.json first in their layers\)/);
    const etc = await filesOf('v1-esgz', 'layer 2/2', ['etc'], 'os-release');
    assert.ok(etc.includes(`os-release ${formatBytes(RECORDED[4]![2])} · 1 chunk · prefetched`), etc.join('\n'));
    await bench.screenshot('converted-with-profile');
    await bench.collapse('v1-esgz');
  });

  it('stops a workload that is still running when Cancel is pressed, and leaves nothing behind', async () => {
    await bench.contextMenu('v1', 'Optimize for Startup...');
    await bench.waitForPrompt(WIZARD);
    await bench.pick('Command');
    await bench.waitForPrompt(/command/);
    await bench.answer('sleep 4321');
    await bench.waitForPrompt(WIZARD);
    await bench.pick('Time to watch');
    await bench.waitForPrompt(/time to watch/);
    await bench.answer('600');
    await bench.waitForPrompt(WIZARD);
    await bench.pick('Tag');
    await bench.waitForPrompt(/tag/);
    await bench.answer('never');
    await bench.waitForPrompt(WIZARD);
    await bench.pick('Record and Convert');
    const toast = bench.page.locator('.notifications-toasts .notification-toast', { hasText: 'for startup at' });
    await toast.locator('.notification-list-item-message', { hasText: /running the workload: \d+ of 600 s/ }).waitFor();
    await bench.until(async () => (await leftovers(tmp, 'sleep\x004321')).some((l) => l.startsWith('process ')), 'the workload never started');
    // The job's folder names its container and cgroup: other recordings on this machine are not ours.
    const job = (await readdir(tmp)).find((n) => n.startsWith('lazyimg-optimize-'));
    assert.ok(job, `the job's folder in ${tmp}`);
    const container = `lazyimg-optimize-${job.slice(-6).toLowerCase()}`;
    await bench.screenshot('running');
    await toast.locator('a.monaco-button', { hasText: 'Cancel' }).click();
    await bench.waitForRows((labels) => labels.some((l) => /^Optimize shell:v1 → never cancelled · [\d.]+ s · images\/shell$/.test(l)));
    // The job's own folder, mounts, processes and cgroups; code-server's files in tmp are not the job's.
    const left = (await leftovers(tmp, 'sleep\x004321')).filter((l) => (l.startsWith('file ') ? l.startsWith('file lazyimg-optimize-') : !l.startsWith('cgroup ') || l.endsWith(container)));
    assert.deepEqual(left, []);
    assert.ok(!(await tags()).includes('never'), 'no tag for a cancelled run');
    await bench.screenshot('cancelled');
  });
});
