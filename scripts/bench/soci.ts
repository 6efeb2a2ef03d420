// `npm run bench:soci`: `lazyimg index` beside the real soci CLI (v0.16.1, built by .ci/run) on the
// Debian root filesystem images of the eStargz benchmark (scripts/bench/estargzData.sh). soci runs
// both ways it can: `soci convert --standalone` on the OCI layout, and `soci convert` against a
// containerd the script starts, whose CPU and peak RSS get a row of their own. Every tool writes
// a SOCI-enabled image with 4 MiB spans; the wall time, CPU and peak memory are the median of
// BENCH_RUNS runs, and our image index must have the digest soci's standalone one has.
// BENCH_SOCI_LARGE=1 adds two synthetic layers of 512 MiB and 1.5 GiB of tar (half incompressible
// files, half repeated text, gzip level 1: test/helpers/tarfixtures.py), built once in the cache.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { OciLayoutStore, writeImage } from '../../src/core/oci/index.js';
import { requireCachedTool, requireTool } from '../../test/helpers/tools.js';
import { CACHE, CLI, cpuSeconds, DATASETS, layoutManifest, machine, median, peakMiB, resetPeak, ROOT, run, RUNS, runMain, taggedDigest, timed, warm, workspace, type Timing } from './measure.js';


interface Row extends Timing {
  daemonCpuS?: number;
  daemonRssMiB?: number;
}

interface Dataset {
  name: string;
  label: string;
  layout: string;
  tag: string;
}

/** The synthetic large layers, made on first use. */
async function largeDatasets(): Promise<Dataset[]> {
  const out: Dataset[] = [];
  for (const mib of [512, 1536]) {
    const layout = join(CACHE, 'bench-soci-large', `big${mib}`, 'layout');
    if (!existsSync(join(layout, 'index.json'))) {
      process.stderr.write(`making a ${mib} MiB tar layer in ${layout}\n`);
      const file = `${layout}.tar`;
      await mkdir(dirname(file), { recursive: true });
      await run('bash', ['-c', 'python3 "$0" make big "$1" > "$2"', join(ROOT, 'test', 'helpers', 'tarfixtures.py'), String(mib), file]);
      await writeImage(await OciLayoutStore.open(layout, { create: true }), [{ tar: await readFile(file) }], { tag: 'v1', gzipLevel: 1 });
      await rm(file);
    }
    out.push({ name: `big${mib}`, label: `${mib} MiB of tar in one layer, half incompressible, gzip level 1`, layout, tag: 'v1' });
  }
  return out;
}

async function main(): Promise<void> {
  const hint = 'apt-get install stargz-snapshotter containerd time tar';
  const bin = { soci: requireCachedTool('soci-v0.16.1/soci'), ctr: requireTool('ctr-remote', hint), time: requireTool('time', hint), tar: requireTool('tar', hint) };
  requireTool('containerd', hint);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, not ${process.env.BENCH_RUNS}`);
  await run('bash', [join(ROOT, 'scripts', 'bench', 'estargzData.sh')]).then((out) => process.stderr.write(out));
  const ticks = Number((await run('getconf', ['CLK_TCK'])).trim());
  // Both tools keep their temporary files in the workspace, which is removed at the end.
  const ws = await workspace('lazyimg-bench-soci-');
  const { dir, env, containerd } = ws;
  try {
    const { pid, address } = containerd;
    console.log(`SOCI index creation, 4 MiB spans, median of ${RUNS} runs; ${machine()}, soci v0.16.1; load average at start ${loadavg()[0]?.toFixed(2)}`);
    const datasets: Dataset[] = [
      ...DATASETS.map((d) => ({ ...d, layout: join(CACHE, 'bench-estargz', d.name, 'layout'), tag: 'bookworm' })),
      ...(process.env.BENCH_SOCI_LARGE === '1' ? await largeDatasets() : []),
    ];
    for (const data of datasets) {
      const { layout, tag } = data;
      const source = await layoutManifest(layout, tag);
      const archive = join(dir, `${data.name}.tar`);
      await run(bin.tar, ['-C', layout, '-cf', archive, '.']);
      await run(bin.ctr, ['--address', address, 'images', 'import', '--no-unpack', '--base-name', data.name, archive], env);
      await warm([archive, bin.soci, CLI, ...source.layers.map((l) => join(layout, 'blobs', ...l.digest.split(':')))]);
      const rows: Record<'ours' | 'standalone' | 'containerd', Row[]> = { ours: [], standalone: [], containerd: [] };
      const report = join(dir, 'time.txt');
      let digests: { ours: string; soci: string } | undefined;
      for (let i = 0; i < RUNS; i++) {
        const ours = join(dir, 'ours');
        const standalone = join(dir, 'soci-standalone');
        const sociRoot = join(dir, 'soci-root');
        await Promise.all([ours, standalone, sociRoot].map((p) => rm(p, { recursive: true, force: true })));
        rows.ours.push(await timed(bin.time, report, process.execPath, [CLI, 'index', `oci:${layout}:${tag}`, `oci:${ours}:soci`], env));
        rows.standalone.push(await timed(bin.time, report, bin.soci, ['--root', sociRoot, 'convert', '--standalone', '--format', 'oci-dir', layout, standalone], env));
        digests = { ours: await taggedDigest(ours, 'soci'), soci: await taggedDigest(standalone) };
        // A fresh soci root each run, so no zTOC is reused from its artifacts database.
        await rm(sociRoot, { recursive: true, force: true });
        await run(bin.ctr, ['--address', address, 'images', 'rm', '--sync', `lazyimg.bench/${data.name}:soci`], env).catch(() => '');
        const cpuBefore = cpuSeconds(pid, ticks);
        const peakKnown = resetPeak(pid);
        const t = await timed(bin.time, report, bin.soci, ['--address', address, '--root', sociRoot, 'convert', `${data.name}:${tag}`, `lazyimg.bench/${data.name}:soci`], env);
        rows.containerd.push({ ...t, daemonCpuS: cpuSeconds(pid, ticks) - cpuBefore, daemonRssMiB: peakKnown ? peakMiB(pid) : NaN });
        process.stderr.write(`${data.name} run ${i + 1}/${RUNS}: lazyimg ${rows.ours.at(-1)!.wallS.toFixed(2)} s, soci standalone ${rows.standalone.at(-1)!.wallS.toFixed(2)} s, soci with containerd ${t.wallS.toFixed(2)} s\n`);
      }
      const m = (list: Row[], key: keyof Row): number => median(list.map((x) => x[key] as number));
      const size = source.layers.reduce((n, l) => n + l.size, 0);
      console.log(`\n${data.name}: ${data.label}, ${source.layers.length} layer(s), ${size.toLocaleString('en')} bytes of tar+gzip`);
      console.log('| tool | wall (s) | CPU user+sys (s) | peak RSS (MiB) |');
      console.log('|---|---:|---:|---:|');
      console.log(`| lazyimg index | ${m(rows.ours, 'wallS').toFixed(2)} | ${m(rows.ours, 'cpuS').toFixed(2)} | ${m(rows.ours, 'rssMiB').toFixed(0)} |`);
      console.log(`| soci convert --standalone | ${m(rows.standalone, 'wallS').toFixed(2)} | ${m(rows.standalone, 'cpuS').toFixed(2)} | ${m(rows.standalone, 'rssMiB').toFixed(0)} |`);
      console.log(`| soci convert (containerd) | ${m(rows.containerd, 'wallS').toFixed(2)} | ${m(rows.containerd, 'cpuS').toFixed(2)} | ${m(rows.containerd, 'rssMiB').toFixed(0)} |`);
      console.log(`| containerd, during soci convert | | ${m(rows.containerd, 'daemonCpuS').toFixed(2)} | ${m(rows.containerd, 'daemonRssMiB').toFixed(0)} |`);
      const ow = m(rows.ours, 'wallS');
      const [sw, cw] = [m(rows.standalone, 'wallS'), m(rows.containerd, 'wallS')];
      console.log(`speedup vs soci standalone ${(sw / ow).toFixed(2)}x, vs soci with containerd ${(cw / ow).toFixed(2)}x; ` +
        `issue target >= 1.5x: ${sw / ow >= 1.5 ? 'met' : 'MISSED'} (standalone), ${cw / ow >= 1.5 ? 'met' : 'MISSED'} (containerd)`);
      const same = digests && digests.ours === digests.soci;
      console.log(`image index digest check: ours ${digests?.ours}, soci standalone ${digests?.soci}: ${same ? 'the same' : 'DIFFERENT'}`);
      if (!same) process.exitCode = 1;
    }
    console.log(`\nload average at the end ${loadavg()[0]?.toFixed(2)}`);
  } finally {
    await ws.close();
  }
}

runMain(main);
