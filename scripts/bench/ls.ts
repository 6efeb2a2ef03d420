// `npm run bench:ls`: time to first page and to all pages of `lazyimg ls` on a 2,500-tag
// repository of a real registry over loopback, beside skopeo and crane (when built) in the same run.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { Stores } from '../../src/core/image/index.js';
import { parseReference } from '../../src/core/oci/index.js';
import { RegistryClient, listTags } from '../../src/core/registry/index.js';
import { TOOLS_DIR, requireTool } from '../../test/helpers/tools.js';
import { startRegistry } from '../../test/integration/fixtures/registry.js';
import { pushManyTags } from '../../test/integration/fixtures/tags.js';

const TAGS = 2500;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CLI = resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

interface Timing {
  firstOutputMs: number;
  totalMs: number;
  lines: number;
}

/** Runs a command, noting when its first stdout byte and its exit arrive. */
function time(command: string, args: string[]): Promise<Timing> {
  return new Promise((done, fail) => {
    const start = process.hrtime.bigint();
    const ms = (): number => Number(process.hrtime.bigint() - start) / 1e6;
    let first = -1;
    let out = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => {
      if (first < 0) first = ms();
      out += d.toString();
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`${command} ${args.join(' ')} exited ${code}: ${err}`));
      done({ firstOutputMs: first, totalMs: ms(), lines: out.trim().split('\n').length });
    });
  });
}

/** The library as the extension uses it: a warm process, a new client (cold connections) per run. */
async function timeInProcess(host: string, repository: string, pageSize: number): Promise<Timing> {
  const start = process.hrtime.bigint();
  const ms = (): number => Number(process.hrtime.bigint() - start) / 1e6;
  const client = new RegistryClient(host);
  let first = -1;
  let lines = 0;
  for await (const page of listTags(client, repository, { pageSize })) {
    if (first < 0) first = ms();
    lines += page.names.length;
  }
  const totalMs = ms();
  await client.close();
  return { firstOutputMs: first, totalMs, lines };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const registry = await startRegistry({ flavor: '3' });
  const stores = new Stores();
  try {
    const repo = `${registry.host}/bench/tags`;
    await pushManyTags(await stores.open(parseReference(repo)), TAGS);
    const crane = join(TOOLS_DIR, 'crane', 'crane');
    const tools: Array<[string, string, string[]]> = [
      ['lazyimg ls (page size 1000)', process.execPath, [CLI, 'ls', repo]],
      ['lazyimg ls --page-size 100', process.execPath, [CLI, 'ls', '--page-size', '100', repo]],
      ['lazyimg ls --limit 100', process.execPath, [CLI, 'ls', '--limit', '100', repo]],
      ['skopeo list-tags', requireTool('skopeo', 'apt-get install skopeo'), ['list-tags', '--tls-verify=false', `docker://${repo}`]],
      ...(existsSync(crane) ? [['crane ls', crane, ['ls', '--insecure', repo]] as [string, string, string[]]] : []),
    ];
    const measures: Array<[string, () => Promise<Timing>]> = [
      ...tools.map(([name, command, args]): [string, () => Promise<Timing>] => [name, () => time(command, args)]),
      ['core listTags in-process (page size 1000)', () => timeInProcess(registry.host, 'bench/tags', 1000)],
      ['core listTags in-process (page size 100)', () => timeInProcess(registry.host, 'bench/tags', 100)],
    ];
    const results: Array<{ name: string; first: number; total: number; lines: number }> = [];
    for (const [name, measure] of measures) {
      await measure(); // warm-up
      const runs: Timing[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await measure());
      results.push({ name, first: median(runs.map((r) => r.firstOutputMs)), total: median(runs.map((r) => r.totalMs)), lines: runs[0]?.lines ?? 0 });
    }
    const base = results.find((r) => r.name === 'skopeo list-tags') as (typeof results)[number];
    console.log(`Listing ${TAGS + 1} tags from distribution v3.1.2 on ${registry.host}; median of ${RUNS} runs; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
    console.log('| command | output lines | first output (ms) | all pages (ms) | all pages vs skopeo |');
    console.log('|---|---:|---:|---:|---:|');
    for (const r of results) {
      console.log(`| ${r.name} | ${r.lines} | ${r.first.toFixed(0)} | ${r.total.toFixed(0)} | ${(r.total / base.total).toFixed(2)}x |`);
    }
    if (!existsSync(crane)) console.log(`(crane not built: GOBIN=${join(TOOLS_DIR, 'crane')} go install github.com/google/go-containerregistry/cmd/crane@v0.20.6 adds it)`);
  } finally {
    await stores.close();
    await registry.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
