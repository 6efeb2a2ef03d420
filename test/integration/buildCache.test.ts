// The deps-before-sources fix, proven with a real builder: buildah builds Node and Python apps
// offline (base image from test/integration/fixtures/baseImage.sh), a source file changes, and the
// dependency layer is rebuilt before the fix and reused from cache after it; the fixed image runs
// as the original did. One app has the requirements copied between the sources and the install,
// and an ENV between them, which stay above the install.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { analyzeDockerfile, buildContext, mapLayers, parseDockerfile } from '../../src/core/dockerfile/index.js';
import { imageLaziness } from '../../src/core/image/index.js';
import { OciLayoutStore } from '../../src/core/oci/index.js';
import { requireTool } from '../helpers/tools.js';
import { applyEdits } from '../unit/dockerfile/helpers.js';
import { runCli } from './fixtures/cli.js';

const run = promisify(execFile);
const BASE = join(process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images'), 'base-bookworm', 'layout');

interface App {
  name: string;
  install: RegExp;
  /** What runs the app (buildah run needs a command). */
  command: string[];
  files: Record<string, string>;
  source: string;
  dockerfile: (base: string) => string;
}

const apps: App[] = [
  {
    name: 'node',
    install: /^RUN npm ci/,
    command: ['node', 'server.js'],
    source: 'server.js',
    files: {
      'package.json': '{"name":"app","version":"1.0.0","dependencies":{"greeting":"file:/opt/pkgs/greeting-1.0.0.tgz"}}\n',
      'package-lock.json': `${JSON.stringify({
        name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true,
        packages: { '': { name: 'app', version: '1.0.0', dependencies: { greeting: 'file:/opt/pkgs/greeting-1.0.0.tgz' } }, 'node_modules/greeting': { version: '1.0.0', resolved: 'file:/opt/pkgs/greeting-1.0.0.tgz' } },
      }, null, 2)}\n`,
      'server.js': 'console.log(require("greeting")());\n',
    },
    dockerfile: (base) => `FROM oci:${base}:bookworm\nWORKDIR /app\n# the application\nCOPY . .\nRUN npm ci --offline --no-audit --no-fund\nCMD ["node", "server.js"]\n`,
  },
  {
    name: 'python',
    install: /^RUN pip install/,
    command: ['python3', 'app.py'],
    source: 'app.py',
    files: {
      'requirements.txt': 'greeting @ file:///opt/pkgs/greeting-1.0-py3-none-any.whl\n',
      'app.py': 'import greeting\nprint(greeting.hello())\n',
    },
    dockerfile: (base) => `FROM oci:${base}:bookworm\nWORKDIR /srv\nCOPY . .\nRUN pip install --no-index --break-system-packages -r requirements.txt\nCMD ["python3", "app.py"]\n`,
  },
  {
    name: 'requirements-between',
    install: /^RUN pip install/,
    command: ['python3', 'app.py'],
    source: 'app.py',
    files: {
      'requirements.txt': 'greeting @ file:///opt/pkgs/greeting-1.0-py3-none-any.whl\n',
      'app.py': 'import greeting\nprint(greeting.hello())\n',
    },
    dockerfile: (base) => `FROM oci:${base}:bookworm\nWORKDIR /srv\n# everything\nCOPY . .\nENV PYTHONDONTWRITEBYTECODE=1\nCOPY requirements.txt .\nRUN pip install --no-index --break-system-packages -r requirements.txt\nCMD ["python3", "app.py"]\n`,
  },
];

// The limit holds for the suite's three builds together, and they take 200 to 260 s here.
describe('the dependency-order fix with a real builder (buildah)', { timeout: 1_800_000 }, () => {
  let dir: string;
  let buildah: string;

  before(async () => {
    buildah = requireTool('buildah', 'apt-get install buildah');
    requireTool('umoci', 'apt-get install umoci');
    if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh (.ci/run does)`);
    // buildah reads `FROM oci:<path>` as an image name too: the path must be lower case, without
    // dot-folders (.cache): a link in a fresh lower-case folder points at the base.
    dir = join(tmpdir(), `lazyimg-buildcache-${randomBytes(6).toString('hex')}`);
    await mkdir(dir);
    await symlink(BASE, join(dir, 'base'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const storage = (): string[] => ['--storage-driver', 'vfs', '--root', join(dir, 'storage'), '--runroot', join(dir, 'run')];

  /** Builds, pushes to an OCI layout, and returns the build log, its time and the install step's layer. */
  async function build(context: string, tag: string, install: RegExp): Promise<{ log: string; diffId: string; seconds: number }> {
    const started = process.hrtime.bigint();
    const { stdout, stderr } = await run(buildah, [...storage(), 'bud', '--isolation', 'chroot', '--layers', '-t', tag, context], { maxBuffer: 64 * 1024 * 1024 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const layoutTag = tag.replace(':', '-'); // a layout tag with a colon would read as part of the path
    await run(buildah, [...storage(), 'push', tag, `oci:${join(dir, 'out')}:${layoutTag}`]);
    const store = await OciLayoutStore.open(join(dir, 'out'));
    const image = await imageLaziness(store, layoutTag);
    const model = parseDockerfile(await readFile(join(context, 'Dockerfile'), 'utf8'));
    const mapping = mapLayers(model, image);
    assert.equal(mapping.problem, undefined, mapping.problem);
    const layer = mapping.layers.find((l) => install.test(`${l.instruction.keyword} ${l.instruction.args}`));
    assert.ok(layer, 'the install step has a layer');
    const diffId = image.config!.rootfs.diff_ids[image.layers.indexOf(layer.layer)] as string;
    return { log: `${stdout}${stderr}`, diffId, seconds };
  }

  /** What the image prints when its app runs. */
  async function output(tag: string, command: string[]): Promise<string> {
    const container = (await run(buildah, [...storage(), 'from', '--pull=never', tag])).stdout.trim();
    try {
      return (await run(buildah, [...storage(), 'run', '--isolation', 'chroot', container, '--', ...command])).stdout;
    } finally {
      await run(buildah, [...storage(), 'rm', container]);
    }
  }

  /** The build log's lines for the install step, up to the next step. */
  function installStep(log: string, install: RegExp): string {
    const steps = log.split(/(?=STEP \d+\/\d+: )/);
    return steps.find((s) => install.test(s.replace(/^STEP \d+\/\d+: /, ''))) ?? '';
  }

  for (const app of apps) {
    it(`${app.name}: a source edit rebuilds dependencies before the fix, and reuses them after`, async (t) => {
      const context = join(dir, app.name);
      await mkdir(context, { recursive: true });
      for (const [name, content] of Object.entries(app.files)) await writeFile(join(context, name), content);
      const original = app.dockerfile(join(dir, 'base'));
      await writeFile(join(context, 'Dockerfile'), original);

      const before1 = await build(context, `${app.name}:before1`, app.install);
      const comment = app.source.endsWith('.py') ? '#' : '//';
      await writeFile(join(context, app.source), `${app.files[app.source]}${comment} edited\n`);
      const before2 = await build(context, `${app.name}:before2`, app.install);
      assert.doesNotMatch(installStep(before2.log, app.install), /Using cache/, 'before the fix the install reruns');
      assert.notEqual(before2.diffId, before1.diffId, 'before the fix the install layer is a new one');

      const finding = analyzeDockerfile(original, buildContext(context)).findings.find((f) => f.ruleId === 'deps-before-sources');
      assert.ok(finding?.fix, 'the rule offers a fix');
      const fixed = applyEdits(original, finding.fix.edits);
      await writeFile(join(context, 'Dockerfile'), fixed);

      const after1 = await build(context, `${app.name}:after1`, app.install);
      await writeFile(join(context, app.source), `${app.files[app.source]}${comment} edited again\n`);
      const after2 = await build(context, `${app.name}:after2`, app.install);
      assert.match(installStep(after2.log, app.install), /Using cache/, 'after the fix the install comes from the cache');
      assert.equal(after2.diffId, after1.diffId, 'after the fix the install layer is the same one');
      assert.equal(await output(`${app.name}:after2`, app.command), await output(`${app.name}:before2`, app.command), 'the fixed image runs as the original did');
      t.diagnostic(`${app.name}: rebuild after a source edit ${before2.seconds.toFixed(1)} s before the fix (install ${before1.diffId.slice(7, 19)} -> ${before2.diffId.slice(7, 19)}), ${after2.seconds.toFixed(1)} s after it (install ${after1.diffId.slice(7, 19)} reused)`);
      t.diagnostic(`${app.name}: fixed Dockerfile ${JSON.stringify(fixed)}`);

      // The layer report reads the built image back: one layer per COPY/RUN of the fixed file.
      const report = await runCli(['lint', '--json', '--image', `oci:${join(dir, 'out')}:${app.name}-after2`, join(context, 'Dockerfile')]);
      assert.equal(report.code, 0, report.stderr);
      const layers = (JSON.parse(report.stdout) as { layers: Array<{ keyword: string; descriptor: { size: number }; estargz?: unknown; soci?: unknown; reason?: string }> }).layers;
      assert.deepEqual(layers.map((l) => l.keyword), ['COPY', 'RUN', 'COPY']);
      assert.ok(layers.every((l) => l.descriptor.size > 0 && !l.estargz && !l.soci && /no eStargz TOC annotation and no SOCI index: pulled whole/.test(l.reason ?? '')));
    });
  }
});
