/// <reference lib="dom" />
// Batches in a real VS Code. A real registry, behind a slow link so that progress can be watched,
// holds three tags of one repository that share a base and an asset layer and differ in an
// application layer. Ctrl+click selects the three tag rows; Index Many... (no minimum layer size)
// runs one batch on the worker with progress per image and per layer, and ends with three new SOCI
// images, which the real CLI inspects and verifies, and a
// notification whose count of reused layers is what the images' shared layers make it and what the
// job's events say. Export as Kubernetes Job... on the same selection writes a plan and an Indexed
// Job into the workspace that parse, and hold that plan.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { pseudoRandom, sampleLayers } from '../../scripts/sampleImage.js';
import { parsePlan } from '../../src/core/batch/index.js';
import { Stores } from '../../src/core/image/index.js';
import { copyImage } from '../../src/core/jobs/index.js';
import { parseReference, writeImage } from '../../src/core/oci/index.js';
import { tempLayout } from '../helpers/images.js';
import { runCli } from '../integration/fixtures/cli.js';
import type { FakeServer } from '../integration/fixtures/fakeServer.js';
import { startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { startRegistryProxy } from '../integration/fixtures/registryProxy.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

const TAGS = ['1.0', '2.0', '3.0'];
/** The shared asset layer: incompressible, so it is a layer of some size. */
const ASSET_BYTES = 2 * 1024 * 1024;
/** Slow enough that the asset layer is read for about four seconds. */
const LINK_BYTES_PER_SECOND = 512 * 1024;

interface Inspected {
  manifests: Array<{ layers: Array<{ digest: string }>; soci?: Array<{ version: string; ztocs: number }> }>;
}

async function inspect(reference: string): Promise<Inspected> {
  const out = await runCli(['inspect', '--json', reference]);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout) as Inspected;
}

describe('batches: Index Many... and Export as Kubernetes Job...', { timeout: 600_000 }, () => {
  let registry: RegistryFixture;
  let slow: FakeServer;
  let server: CodeServer;
  let bench: Workbench;
  /** The images as the tree (and so the batch) names them, through the slow link. */
  let sources: string[];
  /** The same images, straight from the registry, for the CLI's checks. */
  let direct: string[];

  before(async () => {
    registry = await startRegistry();
    const layout = await tempLayout();
    const [base, asset] = sampleLayers(ASSET_BYTES);
    const stores = new Stores();
    for (const tag of TAGS) {
      const app = { entries: [{ name: 'app', type: 'directory' as const }, { name: 'app/version', type: 'file' as const, content: { size: 64 * 1024, stream: () => pseudoRandom(`app ${tag}`, 64 * 1024) } }] };
      await writeImage(layout, [base!, asset!, app], { tag });
      await copyImage(layout, tag, await stores.open(parseReference(`${registry.host}/fleet/app:${tag}`)), tag);
    }
    await stores.close();
    slow = await startRegistryProxy(registry.host, { bytesPerSecond: LINK_BYTES_PER_SECOND });
    sources = TAGS.map((tag) => `${slow.host}/fleet/app:${tag}`);
    direct = TAGS.map((tag) => `${registry.host}/fleet/app:${tag}`);
    server = await startCodeServer({ settings: { 'lazyImages.registries': [slow.host] } });
    bench = await Workbench.open(server, 'batch');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await slow?.close();
    await registry?.stop();
  });

  it('indexes three selected tags in one batch, and says how many layers it reused', async () => {
    // What reuse must come to: every layer counted once per image, less the distinct ones.
    const layers = (await Promise.all(direct.map(inspect))).flatMap((i) => i.manifests[0]!.layers.map((l) => l.digest));
    const shared = layers.length - new Set(layers).size;
    assert.equal(shared, 4, `three images of 3 layers that share 2: ${layers.join(', ')}`);

    await bench.expand(slow.host);
    await bench.expand('fleet/app');
    // Each tag with its lazy status: the rows are not redrawn while they are being selected.
    await bench.waitForRows((labels) => TAGS.every((t) => labels.some((l) => l.startsWith(`${t} `))));
    await bench.select(TAGS);
    await bench.screenshot('selected');
    await bench.contextMenu('3.0', 'Index Many...');
    await bench.waitForPrompt(/Build SOCI indexes for 3 images \| .*Enter starts with these options/);
    const options = await bench.page.locator('.quick-input-widget .quick-input-list .monaco-list-row').allTextContents();
    assert.ok(options.some((o) => /Build\s*SOCI-enabled images tagged <tag>-soci, each beside its source/.test(o)), options.join('\n'));
    assert.ok(options.some((o) => /Tag rule\s*<tag>-soci/.test(o)), options.join('\n'));
    await bench.pick('Minimum layer size');
    await bench.waitForPrompt(/minimum layer size/);
    await bench.answer('0');
    await bench.waitForPrompt(/Enter starts with these options/);
    await bench.pick('Build');

    // Progress per image (from the batch's events) and per layer, in the job's notification.
    const toast = bench.page.locator('.notifications-toasts .notification-toast', { hasText: 'Index 3 images' });
    await toast.locator('.notification-list-item-message', { hasText: /0 of 3 images done · layer 2\/3: [\d.]+ (B|KiB|MiB) of 2\.00 MiB/ }).waitFor();
    await bench.screenshot('progress');
    const said = await bench.notification(/SOCI images? made/);
    await bench.screenshot('done');
    const m = /(\d+) SOCI images? made; (\d+) of (\d+) layers? reused/.exec(said);
    assert.ok(m, said);
    assert.equal(Number(m[1]), 3, said);
    assert.equal(Number(m[2]), shared, `the notification's reused layers are the layers the images share: ${said}`);
    assert.equal(Number(m[3]), layers.length, said);
    await bench.waitForRows((labels) => labels.some((l) => /^Index 3 images succeeded · [\d.]+ s · 127\.0\.0\.1:\d+$/.test(l)));

    // The job's events, in its report (Show Result): the same reuse, item by item.
    await bench.contextMenu(/^Index 3 images/, 'Show Result');
    const report = await bench.waitForEditorText(/\| layers built \| reused \|/);
    const rows = report.split('\n').filter((l) => /^\| `[^`]*fleet\/app:\d\.0` \|/.test(l)).map((l) => l.split('|').map((c) => c.trim()));
    assert.equal(rows.length, 3, report);
    assert.ok(rows.every((r) => r[3] === 'done'), report);
    assert.equal(rows.reduce((n, r) => n + Number(r[5]), 0), shared, report);
    assert.equal(rows.reduce((n, r) => n + Number(r[4]), 0), new Set(layers).size, `each distinct layer indexed once:\n${report}`);

    // The real CLI: three new SOCI v2 images, a zTOC for each layer, and verify passes.
    for (const source of direct) {
      const made = `${source}-soci`;
      const inspected = await inspect(made);
      const image = inspected.manifests.find((i) => i.soci?.length);
      assert.ok(image?.soci?.[0]?.version === 'v2' && image.soci[0].ztocs === 3, JSON.stringify(inspected));
      const verified = await runCli(['verify', '--json', made]);
      assert.equal(verified.code, 0, verified.stderr);
      const v = JSON.parse(verified.stdout) as { ok: boolean; layers: Array<{ soci?: { lazy: boolean } }> };
      assert.ok(v.ok && v.layers.length === 3 && v.layers.every((l) => l.soci?.lazy), verified.stdout);
    }
    await bench.waitForRows((labels) => TAGS.every((t) => labels.some((l) => l.startsWith(`${t}-soci`))));
    await bench.screenshot('new-tags');
  });

  it('exports the same selection as a plan and an Indexed Job that parse and hold the plan', async () => {
    await bench.select(TAGS);
    await bench.contextMenu('3.0', 'Export as Kubernetes Job...');
    await bench.waitForPrompt(/what the Job does/);
    await bench.pick('Index for SOCI');
    await bench.waitForPrompt(/Build SOCI indexes for 3 images/);
    await bench.pick('Build');
    await bench.waitForPrompt(/image/);
    await bench.answer('lazyimg:e2e');
    await bench.waitForPrompt(/completions/);
    await bench.answer('3');
    await bench.waitForPrompt(/parallelism/);
    await bench.answer('2');
    await bench.page.locator('.editor-group-container.active .tab.active', { hasText: 'job.yaml' }).waitFor();
    await bench.notification(/Wrote lazyimg-batch\/plan\.yaml and lazyimg-batch\/job\.yaml/);
    await bench.screenshot('exported');

    const planText = await readFile(join(server.workspace, 'lazyimg-batch', 'plan.yaml'), 'utf8');
    const plan = parse(planText) as { version: number; defaults: { operation: string; soci?: { minLayerSize?: number } }; items: Array<{ source: string }> };
    assert.deepEqual(plan.items.map((i) => i.source), sources, 'the selected images, in name order whatever the click order');
    assert.equal(plan.defaults.operation, 'soci-v2');
    assert.equal(plan.defaults.soci?.minLayerSize, 0, 'the wizard remembered the last choices');
    parsePlan(planText, 'plan.yaml'); // what lazyimg batch would read

    const documents = parseAllDocuments(await readFile(join(server.workspace, 'lazyimg-batch', 'job.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; data?: Record<string, string>; spec?: Record<string, unknown> });
    const configMap = documents.find((d) => d.kind === 'ConfigMap');
    assert.ok(configMap && Object.values(configMap.data ?? {}).includes(planText), 'the ConfigMap holds the plan as written');
    const job = documents.find((d) => d.kind === 'Job');
    const spec = job?.spec as { completionMode: string; completions: number; parallelism: number; template: { spec: { hostNetwork?: boolean; containers: Array<{ image: string }> } } } | undefined;
    assert.ok(spec, JSON.stringify(documents));
    assert.deepEqual([spec.completionMode, spec.completions, spec.parallelism], ['Indexed', 3, 2]);
    assert.equal(spec.template.spec.containers[0]?.image, 'lazyimg:e2e');
    assert.equal(spec.template.spec.hostNetwork, true, 'the registry is on the loopback: the pods use the host\'s network');
  });
});
