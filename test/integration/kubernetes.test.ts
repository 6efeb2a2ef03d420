// A batch run by a real Kubernetes: the CLI's own image, a one-node cluster (v1.34.4), the Indexed
// Job that `lazyimg batch --emit-k8s` writes (3 shards, 2 at a time, one retry per shard), and a
// registry with basic auth on 127.0.0.1 that the pods reach through the host network, with the
// credentials from a Secret. One shard's process is SIGKILLed after its first built layer:
// Kubernetes runs that index again, and the batch still ends with every destination lazy and
// every distinct source layer built exactly once, counted over the logs of every pod.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Stores } from '../../src/core/image/index.js';
import { parseReference, writeImage, type LayerInput } from '../../src/core/oci/index.js';
import type { TarEntry } from '../../src/core/tar/index.js';
import { pseudoRandom } from '../../scripts/sampleImage.js';
import { dockerConfigFor, runCli } from './fixtures/cli.js';
import { cliImage, type CliImage } from './fixtures/cliImage.js';
import { containerLogFiles, podProcesses, startCluster, stdoutLines, type Cluster } from './fixtures/kubernetes.js';
import { credentialsFor, startRegistry, type RegistryFixture } from './fixtures/registry.js';

const MiB = 1024 * 1024;
const JOB = 'fleet';
const SHARDS = 3;
/** Three bases, two applications on each: items on one base share a layer, so one shard each. */
const BASES = ['a', 'b', 'c'];
const APPS = ['app1', 'app2'];
const BASE_BYTES = 32 * MiB;
const APP_BYTES = 16 * MiB;

interface LayerLine { type: 'layer'; item: string; operation: string; source: string; result: string; shard: string }
interface ItemLine { type: 'item'; source: string; operation: string; destination: string; outcome: string; shard: string }
interface SummaryLine { type: 'summary'; shard: string; failed: number }
type Line = LayerLine | ItemLine | SummaryLine | { type: 'planned'; destination: string; shard: string; source: string; operation: string };

/** What a build of a layer is, whatever item asked for it: zTOCs serve SOCI v1 and v2 alike. */
const buildKind = (operation: string): string => (operation === 'estargz' ? 'estargz' : 'ztoc');

function layer(seed: string, bytes: number, dir: string): LayerInput {
  const entries: TarEntry[] = [
    { name: dir, type: 'directory' },
    { name: `${dir}/${seed}.bin`, type: 'file', content: { size: bytes, stream: () => pseudoRandom(seed, bytes) } },
    { name: `${dir}/${seed}.txt`, type: 'file', content: Buffer.from(`${seed}: ${'some text to compress. '.repeat(2000)}\n`) },
  ];
  return { entries, createdBy: `COPY ${seed} /${dir}` };
}

function jsonLines(lines: string[]): Line[] {
  return lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Line);
}

/**
 * Polls a condition (a state, not a time) until it holds or `seconds` pass. A check that throws
 * (kubectl meeting a busy one-node API server) counts as not yet; the last error is reported.
 */
async function until<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds} s waiting for ${what}${lastError ? `; last error: ${(lastError as Error).message}` : ''}`);
    await sleep(100);
  }
}

describe('lazyimg batch as a Kubernetes Indexed Job', { timeout: 1_200_000 }, () => {
  let image: CliImage;
  let registry: RegistryFixture;
  let cluster: Cluster | undefined;
  let dockerConfig: string;
  let planFile: string;
  /** Source layer digests by build kind: what must be built exactly once. */
  const expectedBuilds = new Set<string>();

  before(async () => {
    image = await cliImage();
    registry = await startRegistry({ flavor: '3', auth: 'basic' });
    dockerConfig = await dockerConfigFor(registry.host, registry.username, registry.password);
    const stores = new Stores({ credentials: credentialsFor(registry) });
    const host = registry.host;
    // fleet-a: eStargz; fleet-b: SOCI v2; fleet-c: both, so its layers are built once per kind.
    const operations: Record<string, string[]> = { a: ['estargz'], b: ['soci-v2'], c: ['estargz', 'soci-v2'] };
    for (const base of BASES) {
      for (const app of APPS) {
        const store = await stores.open(parseReference(`${host}/fleet-${base}:${app}`));
        const written = await writeImage(store, [layer(`base-${base}`, BASE_BYTES, 'base'), layer(`${base}-${app}`, APP_BYTES, 'app')], { tag: app, gzipLevel: 1 });
        for (const l of written.layers) for (const op of operations[base]!) expectedBuilds.add(`${buildKind(op)} ${l.digest}`);
      }
    }
    await stores.close();
    planFile = join(dockerConfig, 'plan.yaml');
    await writeFile(planFile, [
      'version: 1',
      `cache: ${host}/lazyimg-cache`,
      'defaults:',
      '  estargz: { level: 1 }',
      '  soci: { minLayerSize: 1048576 }',
      'items:',
      `  - source: ${host}/fleet-a`,
      '    operation: estargz',
      `  - source: ${host}/fleet-b`,
      '    operation: soci-v2',
      `  - source: ${host}/fleet-c`,
      '    operation: both',
      '',
    ].join('\n'));
    cluster = await startCluster();
    await cluster.importImage(image.archive);
  });

  after(async () => {
    await cluster?.down();
    await registry?.stop();
    if (dockerConfig) await rm(dockerConfig, { recursive: true, force: true });
  });

  it('runs every shard, retries the one killed mid-run, and builds each layer once', async () => {
    const c = cluster!;
    const env = { DOCKER_CONFIG: dockerConfig };
    // The plan as the pods will see it: which shard holds which items and destinations.
    const planned: Line[] = [];
    for (let i = 0; i < SHARDS; i++) {
      const r = await runCli(['batch', planFile, '--dry-run', '--shard', `${i}/${SHARDS}`], env);
      assert.equal(r.code, 0, r.stderr);
      planned.push(...jsonLines(r.stdout.split('\n')));
    }
    const destinations = planned.map((p) => (p as { destination: string }).destination);
    assert.equal(destinations.length, 8, 'fleet-a and fleet-b: 2 each; fleet-c: 2 eStargz + 2 SOCI');
    const shardOf = (source: string) => planned.find((p) => (p as { source: string }).source.includes(source))!.shard;
    assert.equal(new Set(BASES.map((b) => shardOf(`fleet-${b}:`))).size, SHARDS, 'each base in a shard of its own');
    // The shard with the most work (fleet-c, both formats) is the one killed after its first layer.
    const victim = Number(shardOf('fleet-c:').split('/')[0]);

    const emitted = await runCli(['batch', planFile, '--emit-k8s', '--image', `lazyimg:${image.version}`, '--completions', String(SHARDS), '--parallelism', '2',
      '--backoff-limit-per-index', '1', '--name', JOB, '--registry-secret', 'registry-auth', '--host-network'], env);
    assert.equal(emitted.code, 0, emitted.stderr);
    await c.kubectl(['create', 'secret', 'generic', 'registry-auth', '--type=kubernetes.io/dockerconfigjson', `--from-file=.dockerconfigjson=${join(dockerConfig, 'config.json')}`]);
    const started = Date.now();
    await c.kubectl(['apply', '-f', '-'], emitted.stdout);

    // The victim's first pod: wait for its first built layer in its log, then SIGKILL its process.
    const podOf = async (index: number) => {
      const out = await c.kubectl(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${JOB},batch.kubernetes.io/job-completion-index=${index}`, '-o', 'jsonpath={.items[*].metadata.name}']);
      return out.trim().split(/\s+/).filter(Boolean);
    };
    const firstPod = await until(`a pod for index ${victim}`, 300, async () => (await podOf(victim))[0]);
    await until(`a layer line from ${firstPod}`, 300, async () => {
      for (const { pod, file } of await containerLogFiles(c, 'lazyimg')) {
        if (pod === firstPod && jsonLines(await stdoutLines(file)).some((l) => l.type === 'layer')) return true;
      }
      return undefined;
    });
    const pids = await podProcesses(c, { JOB_COMPLETION_INDEX: String(victim), LAZYIMG_SHARDS: String(SHARDS) }, ['/opt/lazyimg/cli.js', 'batch']);
    assert.equal(pids.length, 1, `one batch process for index ${victim}: ${pids.join(' ')}`);
    process.kill(pids[0]!, 'SIGKILL');
    const killed = await until(`${firstPod} to fail`, 120, async () => {
      const state = await c.kubectl(['get', 'pod', firstPod, '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.exitCode}']);
      return state.startsWith('Failed') ? state : undefined;
    });
    assert.equal(killed, 'Failed 137', 'the container ended by SIGKILL');

    // Right after the kill: whatever tags exist hold complete images (blobs first, tag last).
    for (const destination of destinations) {
      const r = await runCli(['verify', '--json', destination], env);
      if (r.code !== 0) assert.match(r.stderr, /not found|unknown/i, `${destination}: ${r.stderr}`);
      else assert.equal((JSON.parse(r.stdout) as { ok: boolean }).ok, true, `${destination} after the kill: ${r.stdout}`);
    }

    // Kubernetes retries the index; the Job completes.
    // Polled, not `kubectl wait`, whose watch a busy API server may drop.
    const ended = await until(`the Job to complete`, 900, async () => {
      const conditions = await c.kubectl(['get', 'job', JOB, '-o', 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type} {end}']);
      return /\b(Complete|Failed)\b/.exec(conditions)?.[1];
    }).catch((e: Error) => e.message);
    const jobSeconds = (Date.now() - started) / 1000;
    if (ended !== 'Complete') assert.fail(`the Job did not complete: ${ended}\n${await c.kubectl(['describe', 'job', JOB])}\n${await c.logs()}`);
    const status = JSON.parse(await c.kubectl(['get', 'job', JOB, '-o', 'jsonpath={.status}'])) as { completedIndexes?: string; failedIndexes?: string; failed?: number; succeeded?: number };
    assert.equal(status.completedIndexes, '0-2');
    assert.equal(status.failedIndexes ?? '', '');
    assert.equal(status.failed, 1, 'the killed pod, and no other');
    assert.equal(status.succeeded, SHARDS);
    const victimPods = await podOf(victim);
    assert.equal(victimPods.length, 2, `index ${victim} ran twice: ${victimPods.join(' ')}`);

    // Every destination is lazy, checked blob by blob.
    for (const destination of destinations) {
      const r = await runCli(['verify', '--json', destination], env);
      assert.equal(r.code, 0, `${destination}: ${r.stderr}`);
      const report = JSON.parse(r.stdout) as { ok: boolean; layers: { lazy: { lazy: boolean }; soci?: { lazy: boolean } }[] };
      assert.equal(report.ok, true, destination);
      assert.ok(report.layers.length === 2 && report.layers.every((l) => l.lazy.lazy || l.soci?.lazy === true), `${destination} is lazy: ${r.stdout}`);
    }

    // Every distinct source layer built once per kind, counted over all pods, the killed one too.
    const files = await containerLogFiles(c, 'lazyimg');
    assert.equal(files.length, SHARDS + 1, files.map((f) => f.pod).join(' '));
    const lines = (await Promise.all(files.map(async (f) => jsonLines(await stdoutLines(f.file))))).flat();
    const builds = lines.filter((l): l is LayerLine => l.type === 'layer').map((l) => `${buildKind(l.operation)} ${l.source}`);
    const counts = new Map<string, number>();
    for (const b of builds) counts.set(b, (counts.get(b) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort(), [...expectedBuilds].sort(), 'the layers built are the plan\'s distinct layers');
    assert.deepEqual([...counts].filter(([, n]) => n !== 1), [], 'no layer built twice');
    const items = lines.filter((l): l is ItemLine => l.type === 'item');
    assert.deepEqual(items.filter((i) => i.outcome === 'failed'), []);
    assert.deepEqual([...new Set(items.map((i) => i.destination))].sort(), [...destinations].sort(), 'every destination reported done or skipped');
    const summaries = lines.filter((l): l is SummaryLine => l.type === 'summary');
    assert.equal(summaries.length, SHARDS, 'one summary per finished shard');
    const killedLines = jsonLines(await stdoutLines(files.find((f) => f.pod === firstPod)!.file));
    const killedBuilt = killedLines.filter((l) => l.type === 'layer').length;
    assert.ok(killedBuilt > 0 && !killedLines.some((l) => l.type === 'summary'), 'the killed pod had built layers and had not finished');
    const retried = (await Promise.all(files.filter((f) => f.pod === victimPods.find((p) => p !== firstPod)).map(async (f) => jsonLines(await stdoutLines(f.file))))).flat();
    const retriedItems = retried.filter((l): l is ItemLine & { layers: { reused: number } } => l.type === 'item');

    console.log(`kubernetes: cluster up in ${c.upSeconds.toFixed(1)} s, job complete in ${jobSeconds.toFixed(1)} s, ${builds.length} layers built over ${files.length} pods`);
    console.log(`kubernetes: index ${victim} killed after ${killedBuilt} layer(s); its retry: ${retriedItems.filter((i) => i.outcome === 'skipped').length} item(s) skipped, ${retriedItems.reduce((n, i) => n + i.layers.reused, 0)} layer(s) reused from the cache, ${retried.filter((l) => l.type === 'layer').length} built`);
    console.log(image.report.trim().split('\n').filter((l) => l.startsWith('image: ')).join('\n'));
  });
});
