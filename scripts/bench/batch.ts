// `npm run bench:batch`: a fleet of 20 images on 3 shared bases (scripts/bench/batchData.ts) in a
// real registry (distribution v3.1.2 on 127.0.0.1), made lazily pullable two ways.
// - The reference, one image after another, as a CI job without a batch tool would: eStargz with
//   Debian's ctr-remote in Debian's containerd 1.6, SOCI v2 with `soci convert` (v0.16.1) in
//   containerd v2.2.9; each image fetched from the registry, converted and pushed back. soci runs
//   with a fresh --root per image (nothing reused) and with one root for the fleet (soci skips a
//   zTOC it already has).
// - Ours: `lazyimg batch` on a plan of the 20 images with a fresh layer cache in the registry, as
//   1 shard and as 2 shards at once, then the 1-shard run again (every item skipped).
// One run of each (the reference alone takes minutes); the load average is sampled every 5 s.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BatchEvent, BatchItemResult } from '../../src/core/batch/index.js';
import { requireCachedTool, requireTool } from '../../test/helpers/tools.js';
import { startRegistry, type RegistryFixture } from '../../test/integration/fixtures/registry.js';
import { startSnapshotters, type SnapshotterStack } from '../../test/integration/fixtures/snapshotters.js';
import { BASE_NAMES, baseLabels, buildFleet, FLEET_LAYOUT, type FleetImage } from './batchData.js';
import { CLI, machine, run, runMain, workspace } from './measure.js';
import { mib, seconds } from './pullRun.js';

const TAG = '1.0';
const LOAD_EVERY_MS = 5000;

/** Load average samples (1 minute) taken while a phase runs. */
class LoadSampler {
  private samples: number[] = [];
  private timer = setInterval(() => this.samples.push(loadavg()[0]!), LOAD_EVERY_MS).unref();
  /** Runs `work`, and says what the load was meanwhile. */
  async during<T>(work: () => Promise<T>): Promise<{ result: T; load: string }> {
    this.samples = [loadavg()[0]!];
    const result = await work();
    this.samples.push(loadavg()[0]!);
    const mean = this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
    return { result, load: `${mean.toFixed(2)} (${Math.min(...this.samples).toFixed(2)}-${Math.max(...this.samples).toFixed(2)})` };
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** One image after another: fetch, convert, push; the three times summed over the fleet. */
interface Sequential {
  fetchS: number;
  convertS: number;
  pushS: number;
  wallS: number;
}

async function oneByOne(images: FleetImage[], step: (image: FleetImage) => Promise<Omit<Sequential, 'wallS'>>): Promise<Sequential> {
  const start = performance.now();
  const sum: Sequential = { fetchS: 0, convertS: 0, pushS: 0, wallS: 0 };
  for (const image of images) {
    const t = await step(image);
    sum.fetchS += t.fetchS;
    sum.convertS += t.convertS;
    sum.pushS += t.pushS;
    process.stderr.write(`  ${image.name}: fetch ${t.fetchS.toFixed(2)} s, convert ${t.convertS.toFixed(2)} s, push ${t.pushS.toFixed(2)} s\n`);
  }
  sum.wallS = (performance.now() - start) / 1000;
  return sum;
}

interface Context {
  fleet: FleetImage[];
  dir: string;
  env: NodeJS.ProcessEnv;
  host: string;
  sampler: LoadSampler;
}

const ref = (host: string, image: FleetImage, tag = TAG): string => `${host}/fleet/${image.name}:${tag}`;

type Measured = { result: Sequential; load: string };

/** ctr-remote in Debian's containerd 1.6 (the workspace's), as bench:estargz drives it. */
async function ctrRemoteOneByOne(c: Context, ctrRemote: string, address: string): Promise<Measured> {
  const ctr = (...args: string[]): Promise<number> => seconds(ctrRemote, ['--address', address, ...args], c.env);
  process.stderr.write('reference: ctr-remote, one image after another\n');
  return c.sampler.during(() => oneByOne(c.fleet, async (image) => ({
    fetchS: await ctr('content', 'fetch', '--plain-http', ref(c.host, image)),
    convertS: await ctr('images', 'convert', '--estargz', '--oci', ref(c.host, image), `${image.name}:ref-esgz`),
    pushS: await ctr('images', 'push', '--plain-http', ref(c.host, image, 'ref-esgz'), `${image.name}:ref-esgz`),
  })));
}

/** soci in containerd v2.2.9 with no snapshotter daemon (it only needs the content store): a fresh root per image, then one root. */
async function sociOneByOne(c: Context, sociBin: string, stack: SnapshotterStack): Promise<{ fresh: Measured; shared: Measured }> {
  const soci = (root: string, ...args: string[]): Promise<number> =>
    seconds(sociBin, ['--address', stack.address, '--namespace', stack.namespace, '--root', root, ...args], c.env);
  const ctr = async (...args: string[]): Promise<number> => {
    const start = performance.now();
    await stack.ctr(...args);
    return (performance.now() - start) / 1000;
  };
  process.stderr.write('reference: soci convert, one image after another, a fresh root each\n');
  const fresh = await c.sampler.during(() => oneByOne(c.fleet, async (image) => ({
    fetchS: await ctr('content', 'fetch', '--plain-http', ref(c.host, image)),
    convertS: await soci(join(c.dir, `soci-root-${image.name}`), 'convert', ref(c.host, image), ref(c.host, image, 'ref-soci')),
    pushS: await ctr('images', 'push', '--plain-http', ref(c.host, image, 'ref-soci')),
  })));
  process.stderr.write('reference: soci convert, one image after another, one root\n');
  const shared = await c.sampler.during(() => oneByOne(c.fleet, async (image) => ({
    fetchS: 0, // fetched above
    convertS: await soci(join(c.dir, 'soci-root'), 'convert', ref(c.host, image), ref(c.host, image, 'ref-soci1')),
    pushS: await ctr('images', 'push', '--plain-http', ref(c.host, image, 'ref-soci1')),
  })));
  return { fresh, shared };
}

/**
 * `lazyimg batch` for one operation: 1 shard and 2 shards at once, each with a fresh cache
 * repository and destination prefix (so nothing comes from a run before), then the 1-shard run
 * again, whose items must all be skipped. Returns the table rows.
 */
async function ours(c: Context, operation: Operation, reference: Sequential, other?: { label: string; wallS: number }): Promise<{ rows: string[]; notes: string[] }> {
  const key = operation.replace('-', '');
  const plan = async (prefix: string): Promise<string> => {
    const file = join(c.dir, `${prefix}.json`);
    await writeFile(file, JSON.stringify({
      version: 1,
      defaults: { operation, destination: `<registry>/${prefix}/<repository>:<tag>` },
      items: c.fleet.map((image) => ({ source: ref(c.host, image) })),
    }));
    return file;
  };
  const batch = (file: string, cache: string, shards: Array<string | undefined>): Promise<BatchRun> =>
    timedBatch(shards.map((shard) => [CLI, '--insecure', c.host, 'batch', file, '--cache', cache, ...(shard ? ['--shard', shard] : [])]), c.env);
  const one = { plan: await plan(`b1-${key}`), cache: `${c.host}/cache-1-${key}` };
  const two = { plan: await plan(`b2-${key}`), cache: `${c.host}/cache-2-${key}` };
  const cases: Array<[string, () => Promise<BatchRun>, Outcome]> = [
    ['1 shard, fresh cache', () => batch(one.plan, one.cache, [undefined]), 'done'],
    ['2 shards at once, fresh cache', () => batch(two.plan, two.cache, ['0/2', '1/2']), 'done'],
    ['1 shard again (every item skipped)', () => batch(one.plan, one.cache, [undefined]), 'skipped'],
  ];
  const rows: string[] = [];
  const notes: string[] = [];
  for (const [label, go, expected] of cases) {
    process.stderr.write(`lazyimg batch ${operation}: ${label}\n`);
    const { result: r, load } = await c.sampler.during(go);
    const items = r.events.filter((e): e is BatchItemResult => e.type === 'item');
    const wrong = items.filter((i) => i.outcome !== expected);
    if (items.length !== c.fleet.length || wrong.length > 0) throw new Error(`${operation} ${label}: ${items.length} items, not all ${expected}: ${JSON.stringify(wrong.slice(0, 3))}`);
    const sum = (pick: (i: BatchItemResult) => number): number => items.reduce((n, i) => n + pick(i), 0);
    const layers = r.events.filter((e) => e.type === 'layer');
    const built = layers.length;
    const twice = built - new Set(layers.map((e) => e.source)).size;
    const perShard = r.shardS.map((t, n) => `${t.toFixed(1)} (${r.items[n]} items)`).join(' + ');
    rows.push(`| ${operation} | lazyimg batch, ${label} | ${r.wallS.toFixed(1)} | ${perShard} | ` +
      `${(reference.wallS / r.wallS).toFixed(2)}x | ${(reference.convertS / r.wallS).toFixed(2)}x | ${built} | ${sum((i) => i.layers.reused)} | ` +
      `${sum((i) => i.layers.skipped)} | ${sum((i) => i.layers.built + i.layers.reused + i.layers.skipped)} | ${twice} | ${load} |`);
    process.stderr.write(`  ${r.wallS.toFixed(1)} s, ${built} layers built\n`);
    if (other) notes.push(`${operation}, ${label}: ${other.label} (wall ${other.wallS.toFixed(1)} s) / ours ${(other.wallS / r.wallS).toFixed(2)}x`);
  }
  // The sharded run's output, one image per base, read back as a snapshotter would.
  for (const base of BASE_NAMES) {
    const image = c.fleet.find((i) => i.base === base)!;
    await run(process.execPath, [CLI, '--insecure', c.host, 'verify', `${c.host}/b2-${key}/fleet/${image.name}:${TAG}`], c.env);
  }
  return { rows, notes };
}

async function main(): Promise<void> {
  const hint = 'apt-get install stargz-snapshotter containerd';
  const bin = { ctrRemote: requireTool('ctr-remote', hint), soci: requireCachedTool('soci-v0.16.1/soci') };
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  const fleet = await buildFleet();

  // The registry and containerd v2, should a failed or interrupted run skip the `finally` below.
  const live: { registry?: RegistryFixture; stack?: SnapshotterStack } = {};
  process.once('exit', () => live.registry?.kill());
  const ws = await workspace('lazyimg-bench-batch-');
  const sampler = new LoadSampler();
  try {
    const registry = await startRegistry({ flavor: '3' });
    live.registry = registry;
    const c: Context = { fleet, dir: ws.dir, env: ws.env, host: registry.host, sampler };
    console.log(`Fleet batch: ${fleet.length} images on ${BASE_NAMES.length} bases; ${machine()}; Debian's ctr-remote ${await debVersion('stargz-snapshotter')} ` +
      `and containerd ${await debVersion('containerd')}, soci v0.16.1, containerd v2.2.9; load average at start ${loadavg()[0]!.toFixed(2)}`);
    describeFleet(fleet);
    process.stderr.write(`pushing the fleet to ${c.host}\n`);
    for (const image of fleet) await run(process.execPath, [CLI, '--insecure', c.host, 'copy', `oci:${FLEET_LAYOUT}:${image.name}`, ref(c.host, image)], c.env);

    const esgz = await ctrRemoteOneByOne(c, bin.ctrRemote, ws.containerd.address);
    await ws.containerd.stop(); // one daemon less during the rest
    live.stack = await startSnapshotters({ proxies: [], daemons: [] });
    const soci = await sociOneByOne(c, bin.soci, live.stack);
    await live.stack.stop();
    live.stack = undefined;

    console.log('\nThe reference, one image after another (s); fetch and push go to the same registry:');
    console.log('| tool | fetch | convert | push | wall | load average (mean, range) |');
    console.log('|---|---:|---:|---:|---:|---|');
    const row = (label: string, r: Measured): void =>
      console.log(`| ${label} | ${r.result.fetchS.toFixed(1)} | ${r.result.convertS.toFixed(1)} | ${r.result.pushS.toFixed(1)} | ${r.result.wallS.toFixed(1)} | ${r.load} |`);
    row('ctr-remote images convert --estargz --oci (containerd 1.6)', esgz);
    row('soci convert, a fresh root per image (containerd v2.2.9)', soci.fresh);
    row('soci convert, one root for the fleet (reuses its zTOCs)', soci.shared);

    const e = await ours(c, 'estargz', esgz.result);
    const s = await ours(c, 'soci-v2', soci.fresh.result, { label: 'soci with one root for the fleet', wallS: soci.shared.result.wallS });
    console.log('\nlazyimg batch against the reference (estargz: ctr-remote; soci-v2: soci with a fresh root per image). Reference wall: fetch, convert and push, ' +
      'one image after another; reference convert: its conversions only. Layers: built (the "layer" lines), reused, skipped (SOCI: under the 10 MiB minimum, no zTOC), ' +
      'all the images\' layers (the work without reuse), and layers two shards both built:');
    console.log('| operation | run | wall (s) | per shard (s) | reference wall / ours | reference convert / ours | built | reused | skipped | layers of the images | built twice | load average (mean, range) |');
    console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    [...e.rows, ...s.rows].forEach((r) => console.log(r));
    [...e.notes, ...s.notes].forEach((n) => console.log(n));
    console.log(`\nload average at the end ${loadavg()[0]!.toFixed(2)}`);
  } finally {
    sampler.stop();
    await live.stack?.stop();
    await live.registry?.stop();
    live.registry = undefined;
    await ws.close();
  }
}

const debVersion = async (pkg: string): Promise<string> => (await run('dpkg-query', ['-W', '-f=${Version}', pkg])).trim();

type Operation = 'estargz' | 'soci-v2';
type Outcome = 'done' | 'skipped';
interface BatchRun {
  wallS: number;
  shardS: number[];
  /** Items each shard did. */
  items: number[];
  events: BatchEvent[];
}

/** Runs the shards' commands at once; the wall time is until the last one ends. */
async function timedBatch(commands: string[][], env: NodeJS.ProcessEnv): Promise<BatchRun> {
  const start = performance.now();
  const shards = await Promise.all(commands.map(async (args) => {
    const out = await run(process.execPath, args, env);
    const events = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as BatchEvent);
    return { s: (performance.now() - start) / 1000, events, items: events.filter((e) => e.type === 'item').length };
  }));
  return { wallS: (performance.now() - start) / 1000, shardS: shards.map((x) => x.s), items: shards.map((x) => x.items), events: shards.flatMap((x) => x.events) };
}

/** The fleet's shape: bases, layers, and the work a tool without reuse does. */
function describeFleet(fleet: FleetImage[]): void {
  const distinct = new Map<string, number>();
  for (const image of fleet) image.layers.forEach((d, i) => distinct.set(d, image.layerSizes[i]!));
  const total = fleet.reduce((n, i) => n + i.layers.length, 0);
  const totalBytes = fleet.reduce((n, i) => n + i.layerSizes.reduce((a, b) => a + b, 0), 0);
  const distinctBytes = [...distinct.values()].reduce((a, b) => a + b, 0);
  for (const base of BASE_NAMES) {
    const on = fleet.filter((i) => i.base === base);
    const sizes = on[0]!.layerSizes.slice(0, baseLabels(base).length);
    console.log(`- base ${base}: ${baseLabels(base).map((l, n) => `${l} (${mib(sizes[n]!)} MiB)`).join(', ')}; under ${on.length} images`);
  }
  console.log(`- ${total} layers in all (${mib(totalBytes)} MiB of gzip), ${distinct.size} distinct (${mib(distinctBytes)} MiB)`);
}

runMain(main);
