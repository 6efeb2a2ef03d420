// `lazyimg batch` against a real registry: a fleet of 6 images on shared bases, converted to
// eStargz, indexed for SOCI v2, and both, through a layer cache in the registry (or in a folder).
// Each distinct source layer is built once, counted from the `layer` lines; a rerun does nothing
// (no write request reaches the registry); a run killed with SIGKILL leaves no tag on incomplete
// content and a rerun finishes with nothing built twice; two shards at once split the items and
// still build each layer once; bad plans and hostile cache records give errors and rebuilds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BatchEvent, BatchItemResult, BatchLayerBuilt, BatchSummary } from '../../src/core/batch/index.js';
import { Stores } from '../../src/core/image/index.js';
import { copyImage } from '../../src/core/jobs/index.js';
import { MediaType, parseReference, writeImage, type Descriptor, type ImageManifest, type ImageStore } from '../../src/core/oci/index.js';
import type { TarEntry } from '../../src/core/tar/index.js';
import { pseudoRandom } from '../../scripts/sampleImage.js';
import { CLI, runCli } from './fixtures/cli.js';
import { startContainerd, type Containerd } from './fixtures/containerd.js';
import { startRegistry, type RegistryFixture } from './fixtures/registry.js';

const T0 = 1_700_000_000;

function file(name: string, size: number): TarEntry {
  return { name, type: 'file', mode: 0o644, mtime: T0, content: { size, stream: () => pseudoRandom(name, size) } };
}

/** A layer of a few files, some incompressible bytes so chunks and spans have something to hold. */
function layer(id: string, size: number): { entries: TarEntry[]; createdBy: string } {
  return {
    entries: [{ name: id, type: 'directory', mode: 0o755, mtime: T0 }, file(`${id}/data.bin`, size), { name: `${id}/readme`, type: 'file', mode: 0o644, mtime: T0, content: Buffer.from(`layer ${id}\n`) }],
    createdBy: `ADD ${id}`,
  };
}

/** The fleet: web on base A, db on A and C, api on base B. */
const FLEET: Record<string, Array<ReturnType<typeof layer>>> = {
  'web:1.0': [layer('base-a', 300_000), layer('web-10', 40_000)],
  'web:1.1': [layer('base-a', 300_000), layer('web-11', 50_000)],
  'web:1.2': [layer('base-a', 300_000), layer('web-12', 60_000)],
  'db:1.0': [layer('base-a', 300_000), layer('base-c', 120_000), layer('db-10', 30_000)],
  'api:1.0': [layer('base-b', 250_000), layer('api-10', 45_000)],
  'api:1.1': [layer('base-b', 250_000), layer('api-11', 35_000)],
};

/** The plan, for the fleet under `ns/`: web to eStargz, api to SOCI v2, db both. */
function planText(host: string, ns: string, cache?: string, extra: string[] = []): string {
  return [
    'version: 1',
    ...(cache ? [`cache: ${cache}`] : []),
    'defaults:',
    `  soci: { minLayerSize: 0, spanSize: 65536${extra.length ? ', prefetch: [base-b/readme]' : ''} }`,
    '  estargz: { chunkSize: 65536 }',
    'items:',
    `  - source: ${host}/${ns}/web`,
    '    operation: estargz',
    `  - source: ${host}/${ns}/api`,
    '    tags: "1.*"',
    '    operation: soci-v2',
    `  - source: ${host}/${ns}/db:1.0`,
    '    operation: both',
    '    destination: { estargz: "<tag>-esgz", soci: "<registry>/<repository>:<tag>-soci" }',
    ...extra,
    '',
  ].join('\n');
}

function parseLines(stdout: string): BatchEvent[] {
  return stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as BatchEvent);
}

const items = (events: BatchEvent[]): BatchItemResult[] => events.filter((e): e is BatchItemResult => e.type === 'item');
const layers = (events: BatchEvent[]): BatchLayerBuilt[] => events.filter((e): e is BatchLayerBuilt => e.type === 'layer');
const summaryOf = (events: BatchEvent[]): BatchSummary | undefined => events.find((e): e is BatchSummary => e.type === 'summary');
/** What a layer line built: an eStargz layer or a zTOC, of which source layer. */
const built = (l: BatchLayerBuilt): string => `${l.operation === 'estargz' ? 'estargz' : 'ztoc'} ${l.source}`;

describe('lazyimg batch', { timeout: 900_000 }, () => {
  let registry: RegistryFixture;
  let stores: Stores;
  let work: string;
  let containerd: Containerd;
  /** Source manifests by `repo:tag`. */
  const manifests = new Map<string, ImageManifest>();
  /** Every build the plan needs, once: `estargz <layer>` and `ztoc <layer>`. */
  let expected: string[];

  const cli = (args: string[]) => runCli(['--insecure', registry.host, ...args]);
  const store = (repository: string): Promise<ImageStore> => stores.open(parseReference(`${registry.host}/${repository}`));

  async function tagsOf(repository: string): Promise<string[]> {
    const tags: string[] = [];
    for await (const page of (await store(repository)).listTags()) tags.push(...page.names);
    return tags.sort();
  }

  /** The fleet copied under `ns/` (blobs mounted: no bytes move). */
  async function fleetIn(ns: string): Promise<void> {
    for (const name of Object.keys(FLEET)) {
      const [repo, tag] = name.split(':');
      await copyImage(await store(`src/${repo}`), tag, await store(`${ns}/${repo}`), tag);
    }
  }

  /** `estargz <layer>` and `ztoc <layer>` for every layer record of a cache repository. */
  async function recordsIn(repository: string): Promise<string[]> {
    const cache = await store(repository);
    const out: string[] = [];
    for (const tag of await tagsOf(repository)) {
      const kind = /^(estargz|ztoc)-/.exec(tag)?.[1];
      if (!kind) continue;
      const doc = (await cache.getManifest(await cache.resolve(tag))) as { manifest: ImageManifest };
      out.push(`${kind} ${doc.manifest.annotations!['org.lazyimg.batch.source']}`);
    }
    return out.sort();
  }

  async function writePlan(name: string, text: string): Promise<string> {
    const path = join(work, name);
    await writeFile(path, text);
    return path;
  }

  before(async () => {
    registry = await startRegistry({ accessLog: true });
    stores = new Stores({ insecure: [registry.host] });
    work = await mkdtemp(join(tmpdir(), 'lazyimg-batch-'));
    for (const [name, fleetLayers] of Object.entries(FLEET)) {
      const [repo, tag] = name.split(':');
      const written = await writeImage(await store(`src/${repo}`), fleetLayers, { tag });
      const doc = await (await store(`src/${repo}`)).getManifest(written.manifest);
      manifests.set(name, (doc as { manifest: ImageManifest }).manifest);
    }
    const layersOf = (names: string[]): string[] => [...new Set(names.flatMap((n) => manifests.get(n)!.layers.map((l) => l.digest)))];
    expected = [
      ...layersOf(['web:1.0', 'web:1.1', 'web:1.2', 'db:1.0']).map((d) => `estargz ${d}`),
      ...layersOf(['api:1.0', 'api:1.1', 'db:1.0']).map((d) => `ztoc ${d}`),
    ].sort();
    assert.equal(expected.length, 12, 'six eStargz layers and six zTOCs');
  });

  after(async () => {
    await containerd?.stop();
    await stores?.close();
    await registry?.stop();
    await rm(work ?? '', { recursive: true, force: true });
  });

  /** Every destination of the plan under `ns/`, as `repo:tag`. */
  const DESTINATIONS = ['web:1.0-esgz', 'web:1.1-esgz', 'web:1.2-esgz', 'api:1.0-soci', 'api:1.1-soci', 'db:1.0-esgz', 'db:1.0-soci'];

  /** `verify` finds every destination lazy: each layer eStargz, or each layer with a checked zTOC. */
  async function assertLazy(ns: string, names = DESTINATIONS): Promise<void> {
    for (const name of names) {
      const r = await cli(['verify', `${registry.host}/${ns}/${name}`, '--json']);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const report = JSON.parse(r.stdout) as { ok: boolean; layers: Array<{ lazy: { lazy: boolean }; soci?: { lazy: boolean; spansVerified: number; spans: number } }> };
      assert.equal(report.ok, true, `${name}: ${r.stdout}`);
      const source = manifests.get(name.replace(/-(esgz|soci)$/, ''))!;
      assert.equal(report.layers.length, source.layers.length, name);
      for (const l of report.layers) {
        if (name.endsWith('-esgz')) assert.equal(l.lazy.lazy, true, `${name}: ${JSON.stringify(l)}`);
        else assert.ok(l.soci?.lazy && l.soci.spansVerified === l.soci.spans, `${name}: ${JSON.stringify(l)}`);
      }
    }
  }

  let planA: string;

  it('builds every distinct layer once, and every destination is lazy (ctr-remote reads the TOC digests we annotate)', async () => {
    await fleetIn('a');
    planA = await writePlan('a.yaml', planText(registry.host, 'a', `${registry.host}/a/cache`));
    const r = await cli(['batch', planA]);
    assert.equal(r.code, 0, r.stderr);
    const events = parseLines(r.stdout);
    const results = items(events);
    assert.equal(results.length, 7);
    assert.ok(results.every((i) => i.outcome === 'done'), JSON.stringify(results));
    assert.deepEqual(results.map((i) => i.destination.slice(registry.host.length + 3)).sort(), [...DESTINATIONS].sort());
    assert.deepEqual(layers(events).map(built).sort(), expected, 'each distinct layer built once');
    const summary = summaryOf(events)!;
    assert.equal(summary.layersBuilt, 12);
    assert.equal(summary.layersBuilt + summary.layersReused, results.reduce((n, i) => n + i.layers.built + i.layers.reused, 0));
    assert.ok(summary.layersReused >= 4, `base layers reused: ${summary.layersReused}`);
    assert.equal(summary.distinctLayers, 9);
    // One line per item on stderr, then the summary.
    assert.equal(r.stderr.trim().split('\n').length, 8, r.stderr);
    await assertLazy('a');

    // Debian's ctr-remote reads back the TOC digest each eStargz layer is annotated with.
    containerd = await startContainerd();
    for (const name of ['web:1.0-esgz', 'db:1.0-esgz']) {
      const out = join(work, `export-${name.replace(':', '-')}`);
      const copied = await cli(['copy', `${registry.host}/a/${name}`, `oci:${out}:${name.split(':')[1]}`]);
      assert.equal(copied.code, 0, copied.stderr);
      await containerd.importLayout(out, name.split(':')[0]!);
      const manifest = (await (await store(`a/${name.split(':')[0]}`)).getManifest(await (await store(`a/${name.split(':')[0]}`)).resolve(name.split(':')[1]))) as { manifest: ImageManifest };
      for (const l of manifest.manifest.layers) {
        assert.equal((await containerd.ctr('images', 'get-toc-digest', l.digest)).trim(), l.annotations!['containerd.io/snapshot/stargz/toc.digest'], `${name} ${l.digest}`);
      }
    }
  });

  it('run again, skips every item, builds nothing and writes nothing', async () => {
    const repos = ['a/web', 'a/api', 'a/db', 'a/cache'];
    const tagsBefore = await Promise.all(repos.map(tagsOf));
    const requestsBefore = (await registry.requests()).length;
    const r = await cli(['batch', planA]);
    assert.equal(r.code, 0, r.stderr);
    const events = parseLines(r.stdout);
    assert.equal(items(events).length, 7);
    assert.ok(items(events).every((i) => i.outcome === 'skipped' && i.digest), JSON.stringify(items(events)));
    assert.equal(layers(events).length, 0);
    assert.deepEqual(await Promise.all(repos.map(tagsOf)), tagsBefore);
    const writes = (await registry.requests()).slice(requestsBefore).filter((l) => /^(PUT|POST|PATCH|DELETE) /.test(l));
    assert.deepEqual(writes, [], 'no write request');
  });

  it('killed with SIGKILL mid-run, leaves no tag on incomplete content; the rerun finishes with nothing built twice', async () => {
    await fleetIn('c');
    const plan = await writePlan('c.yaml', planText(registry.host, 'c', `${registry.host}/c/cache`));
    const child = spawn(process.execPath, [CLI, '--insecure', registry.host, 'batch', plan], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    // 'close', not 'exit': the lines the child wrote before it died may still be on their way.
    const exited = new Promise<void>((done) => child.once('close', () => done()));
    // Killed as soon as the first layer is recorded: the state the test waits for, not a time.
    await new Promise<void>((done, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (/"type":"layer"/.test(stdout)) {
          child.kill('SIGKILL');
          done();
        }
      });
      child.once('exit', () => fail(new Error(`the batch ended before a layer was built: ${stdout}`)));
    });
    await exited;
    const killed = parseLines(stdout.slice(0, stdout.lastIndexOf('\n') + 1));
    assert.equal(summaryOf(killed), undefined, 'the first run was cut short');
    // Whatever tag exists points at complete content.
    for (const name of DESTINATIONS) {
      const [repo, tag] = name.split(':');
      if (!(await tagsOf(`c/${repo}`)).includes(tag!)) continue;
      await assertLazy('c', [name]);
    }
    const r = await cli(['batch', plan]);
    assert.equal(r.code, 0, r.stderr);
    const events = parseLines(r.stdout);
    assert.ok(items(events).every((i) => i.outcome !== 'failed'), JSON.stringify(items(events)));
    const lines = [...layers(killed), ...layers(events)].map(built);
    assert.equal(new Set(lines).size, lines.length, `no layer built twice: ${lines.join(', ')}`);
    // A layer whose record the registry stored just as the run died has no line: the record counts.
    const recorded = await recordsIn('c/cache');
    assert.deepEqual(recorded, expected, 'every layer recorded once');
    assert.ok(lines.every((l) => recorded.includes(l)));
    assert.ok(lines.length >= expected.length - 2, `at most the two layers in flight are unreported: ${lines.length}`);
    await assertLazy('c');
  });

  it('two shards at once split the items, and build each layer once between them', async () => {
    await fleetIn('d');
    const plan = await writePlan('d.yaml', planText(registry.host, 'd', `${registry.host}/d/cache`));
    const [zero, one] = await Promise.all([cli(['batch', plan, '--shard', '0/2']), cli(['batch', plan, '--shard', '1/2'])]);
    assert.equal(zero.code, 0, zero.stderr);
    assert.equal(one.code, 0, one.stderr);
    const [e0, e1] = [parseLines(zero.stdout), parseLines(one.stdout)];
    const names = (e: BatchEvent[]): string[] => items(e).map((i) => `${i.source} ${i.operation}`);
    assert.ok(names(e0).length > 0 && names(e1).length > 0, 'both shards have work');
    assert.deepEqual(names(e0).filter((n) => names(e1).includes(n)), [], 'disjoint');
    assert.equal(new Set([...names(e0), ...names(e1)]).size, 7, 'together, every item');
    assert.equal(summaryOf(e0)!.shard, '0/2');
    assert.equal(summaryOf(e1)!.shard, '1/2');
    assert.deepEqual([...layers(e0), ...layers(e1)].map(built).sort(), expected);
    // The dry run of a shard lists what it did.
    const dry = await cli(['batch', plan, '--shard', '1/2', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(parseLines(dry.stdout).map((e) => `${(e as unknown as { source: string }).source} ${(e as unknown as { operation: string }).operation}`).sort(), names(e1).sort());
    await assertLazy('d');
  });

  it('a folder cache works as the registry cache does; SOCI v1 reuses v2\'s zTOCs, prefetch files read them back', async () => {
    await fleetIn('e');
    const folder = join(work, 'cache-folder');
    const plan = await writePlan('e.yaml', planText(registry.host, 'e', undefined, [`  - source: ${registry.host}/e/api:1.1`, '    operation: soci-v1']));
    const r = await cli(['batch', plan, '--cache', `oci:${folder}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(layers(parseLines(r.stdout)).map(built).sort(), expected);
    const v1 = items(parseLines(r.stdout)).find((i) => i.operation === 'soci-v1')!;
    assert.deepEqual([v1.outcome, v1.layers], ['done', { built: 0, reused: 2, skipped: 0 }]);
    await assertLazy('e');
    // The v1 index is attached to the source, with a prefetch artifact planned from a cached zTOC.
    const report = JSON.parse((await cli(['verify', `${registry.host}/e/api:1.1`, '--json'])).stdout) as { ok: boolean; soci: Array<{ version: string }>; layers: Array<{ soci?: { lazy: boolean; prefetch?: unknown } }> };
    assert.equal(report.ok, true);
    assert.deepEqual(report.soci.map((x) => x.version), ['v1']);
    assert.ok(report.layers.every((l) => l.soci?.lazy) && report.layers.some((l) => l.soci?.prefetch), JSON.stringify(report.layers));
    const again = await cli(['batch', plan, '--cache', `oci:${folder}`]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(items(parseLines(again.stdout)).length, 8);
    assert.ok(items(parseLines(again.stdout)).every((i) => i.outcome === 'skipped'));
    assert.equal(layers(parseLines(again.stdout)).length, 0);
    assert.deepEqual(await tagsOf('e/cache').catch(() => []), [], 'nothing went to a registry cache');
  });

  it('refuses bad plans with the file and the field, and rebuilds what a hostile cache record describes', async () => {
    const bad: Array<[string, RegExp]> = [
      ['version: 2\nitems: [{source: a/b:1}]\n', /bad\.yaml: version: must be 1/],
      [`version: 1\nitems:\n  - source: ${registry.host}/a/web:1.0\n  - source: ${registry.host}/a/web:1.1\n    operation: gzip\n`, /bad\.yaml: items\[1\]\.operation: must be one of estargz, soci-v2, soci-v1, both/],
      ['version: 1\nitems:\n  - source: x/y:1\n    destnation: "<tag>-x"\n', /bad\.yaml: items\[0\]\.destnation: is not a known field/],
      ['version: 1\nitems:\n  - source: x/y:1\n    operation: both\n    destination: "<tag>-x"\n', /items\[0\]\.destination: operation both writes two images/],
      ['version: 1\nitems: [\n', /bad\.yaml: not valid YAML or JSON at line/],
      ['{"version": 1, "items": [{"source": "x/y:1", "tags": "*"}]}', /items\[0\]\.tags: applies to a repository/],
      ['version: 1\nitems:\n  - source: x/y:1\n    destination: "<nmae>-x"\n', /<nmae> is not a placeholder/],
    ];
    for (const [text, message] of bad) {
      const r = await cli(['batch', await writePlan('bad.yaml', text)]);
      assert.equal(r.code, 1, text);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    assert.equal((await cli(['batch', planA, '--shard', '2/2'])).code, 2, 'a shard out of range is a usage error');

    // Hostile records in a's cache: base A's eStargz record claims a diff ID that is no digest; web 1.0's
    // names a blob the cache does not have. A new destination makes the items ask the cache again.
    const cache = await store('a/cache');
    const baseA = manifests.get('web:1.0')!.layers[0]!.digest;
    const web10 = manifests.get('web:1.0')!.layers[1]!.digest;
    let tampered = 0;
    for (const tag of await tagsOf('a/cache')) {
      if (!tag.startsWith('estargz-')) continue;
      const doc = (await cache.getManifest(await cache.resolve(tag))) as { manifest: ImageManifest };
      const m = doc.manifest;
      const source = m.annotations!['org.lazyimg.batch.source'];
      if (source === baseA) m.annotations!['org.lazyimg.batch.diff-id'] = 'not-a-digest';
      // The cache's empty blob: there, but no eStargz layer.
      else if (source === web10) m.layers[0] = { ...m.layers[0]!, digest: m.config.digest, size: m.config.size } as Descriptor;
      else continue;
      await cache.putManifest(Buffer.from(JSON.stringify(m)), MediaType.OciManifest, tag);
      tampered++;
    }
    assert.equal(tampered, 2);
    const plan = await writePlan('f.yaml', [
      'version: 1', `cache: ${registry.host}/a/cache`, 'defaults: { estargz: { chunkSize: 65536 } }', 'items:',
      `  - source: ${registry.host}/a/web:1.0`, '    operation: estargz', '    destination: "<tag>-again"', '',
    ].join('\n'));
    const r = await cli(['batch', plan]);
    assert.equal(r.code, 0, r.stderr);
    const events = parseLines(r.stdout);
    assert.deepEqual(layers(events).map(built).sort(), [`estargz ${baseA}`, `estargz ${web10}`].sort(), 'both layers built again');
    assert.match(r.stderr, /do not describe an eStargz layer/);
    assert.match(r.stderr, /its layer is no eStargz layer with that TOC/);
    const report = JSON.parse((await cli(['verify', `${registry.host}/a/web:1.0-again`, '--json'])).stdout) as { ok: boolean };
    assert.equal(report.ok, true);
    // The rebuilt records replaced the hostile ones: the next item reuses them.
    const next = await cli(['batch', await writePlan('g.yaml', (await readFile(plan, 'utf8')).replace('<tag>-again', '<tag>-again2'))]);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(layers(parseLines(next.stdout)).length, 0);
    assert.equal(items(parseLines(next.stdout))[0]!.layers.reused, 2);
  });
});
