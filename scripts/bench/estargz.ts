// `npm run bench:estargz`: `lazyimg convert --format estargz` beside the reference converter,
// Debian's ctr-remote 0.12, both at gzip level 9 on the same Debian root filesystem images
// (scripts/bench/estargzData.sh builds them once). Wall time, CPU, peak memory and output size,
// median of BENCH_RUNS runs; then ctr-remote reads the TOC digest of our layers back as a check.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../../test/helpers/tools.js';
import { CACHE, CLI, cpuSeconds, DATASETS, layoutManifest, machine, median, peakMiB, resetPeak, ROOT, run, RUNS, runMain, timed, warm, workspace, type Manifest, type Timing } from './measure.js';

const LEVEL = 9;
const TOC_DIGEST = 'containerd.io/snapshot/stargz/toc.digest';

interface Measure extends Timing {
  /** containerd's share of ctr-remote's conversion: it serves the blobs over gRPC. */
  daemonCpuS?: number;
  daemonRssMiB?: number;
  outputBytes: number;
}

/** The tools, found before any work starts so a missing one fails in the first second. */
function tools(): { ctr: string; containerd: string; time: string; tar: string } {
  const hint = 'apt-get install stargz-snapshotter containerd';
  return {
    ctr: requireTool('ctr-remote', hint),
    containerd: requireTool('containerd', hint),
    // GNU time, not the shell keyword: it reports the child's CPU and peak RSS from wait4().
    time: requireTool('time', 'apt-get install time'),
    tar: requireTool('tar', 'apt-get install tar'),
  };
}

async function main(): Promise<void> {
  const bin = tools();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, not ${process.env.BENCH_RUNS}`);
  await run('bash', [join(ROOT, 'scripts', 'bench', 'estargzData.sh')]).then((out) => process.stderr.write(out));
  const ticks = Number((await run('getconf', ['CLK_TCK'])).trim());
  const version = (await run(bin.ctr, ['--version'])).trim();

  // Both tools keep their temporary files in the workspace, which is removed at the end.
  const ws = await workspace('lazyimg-bench-esgz-');
  const { dir, env, containerd } = ws;
  try {
    const { pid, address } = containerd;
    const ctr = (...args: string[]): Promise<string> => run(bin.ctr, ['--address', address, ...args], env);
    const imageManifest = async (ref: string): Promise<Manifest> => {
      const line = (await ctr('images', 'ls', `name==${ref}`)).split('\n').find((l) => l.startsWith(`${ref} `));
      const digest = line?.split(/\s+/)[2];
      if (!digest) throw new Error(`containerd has no image ${ref}`);
      const doc = JSON.parse(await ctr('content', 'get', digest)) as Manifest;
      // An index (one platform here) points at the manifest.
      const inner = doc.manifests?.[0]?.digest;
      return inner ? (JSON.parse(await ctr('content', 'get', inner)) as Manifest) : doc;
    };
    const size = (m: Manifest): number => m.layers.reduce((sum, l) => sum + l.size, 0);

    console.log(`eStargz conversion, gzip level ${LEVEL}, median of ${RUNS} runs; ${machine()}, ${version}; load average at start ${loadavg()[0]?.toFixed(2)}`);
    for (const data of DATASETS) {
      const layout = join(CACHE, 'bench-estargz', data.name, 'layout');
      const source = await layoutManifest(layout, 'bookworm');
      const archive = join(dir, `${data.name}.tar`);
      await run(bin.tar, ['-C', layout, '-cf', archive, '.']);
      await ctr('images', 'import', '--no-unpack', '--base-name', data.name, archive);
      await warm([archive, bin.ctr, CLI, ...source.layers.map((l) => join(layout, 'blobs', ...l.digest.split(':')))]);

      const ours: Measure[] = [];
      const theirs: Measure[] = [];
      const report = join(dir, 'time.txt');
      // Alternate the tools, so a slow moment of the machine does not land on one tool only.
      for (let i = 0; i < RUNS; i++) {
        const out = join(dir, `ours-${data.name}`);
        await rm(out, { recursive: true, force: true });
        const o = await timed(bin.time, report, process.execPath,
          [CLI, 'convert', '--format', 'estargz', `oci:${layout}:bookworm`, `oci:${out}:esgz`, '--level', String(LEVEL)], env);
        ours.push({ ...o, outputBytes: size(await layoutManifest(out, 'esgz')) });

        // GC removes the previous run's blobs with the image, so every run writes all its content.
        await ctr('images', 'rm', '--sync', `${data.name}:esgz`).catch(() => '');
        const cpuBefore = cpuSeconds(pid, ticks);
        const peakKnown = resetPeak(pid);
        const t = await timed(bin.time, report, bin.ctr,
          ['--address', address, 'images', 'convert', '--estargz', '--oci', '--estargz-compression-level', String(LEVEL), `${data.name}:bookworm`, `${data.name}:esgz`], env);
        theirs.push({
          ...t, daemonCpuS: cpuSeconds(pid, ticks) - cpuBefore, daemonRssMiB: peakKnown ? peakMiB(pid) : NaN,
          outputBytes: size(await imageManifest(`${data.name}:esgz`)),
        });
        process.stderr.write(`${data.name} run ${i + 1}/${RUNS}: lazyimg ${o.wallS.toFixed(2)} s, ctr-remote ${t.wallS.toFixed(2)} s\n`);
      }

      const m = (list: Measure[], key: keyof Measure): number => median(list.map((x) => x[key] as number));
      const [ow, tw] = [m(ours, 'wallS'), m(theirs, 'wallS')];
      const [oc, tc, dc] = [m(ours, 'cpuS'), m(theirs, 'cpuS'), m(theirs, 'daemonCpuS')];
      const [or, tr, dr] = [m(ours, 'rssMiB'), m(theirs, 'rssMiB'), m(theirs, 'daemonRssMiB')];
      const [osz, tsz] = [m(ours, 'outputBytes'), m(theirs, 'outputBytes')];
      const sizes = (list: Measure[]): string => (new Set(list.map((x) => x.outputBytes)).size === 1 ? '' : ' (varied between runs)');
      console.log(`\n${data.name}: ${data.label}, ${source.layers.length} layer(s), ${size(source).toLocaleString('en')} bytes of tar+gzip`);
      console.log('| converter | wall (s) | CPU user+sys (s) | peak RSS (MiB) | output (bytes) |');
      console.log('|---|---:|---:|---:|---:|');
      console.log(`| lazyimg convert | ${ow.toFixed(2)} | ${oc.toFixed(2)} | ${or.toFixed(0)} | ${osz.toLocaleString('en')}${sizes(ours)} |`);
      console.log(`| ctr-remote images convert | ${tw.toFixed(2)} | ${tc.toFixed(2)} | ${tr.toFixed(0)} | ${tsz.toLocaleString('en')}${sizes(theirs)} |`);
      console.log(`| containerd, during ctr-remote's conversion | | ${dc.toFixed(2)} | ${dr.toFixed(0)} | |`);
      console.log(`speedup ${(tw / ow).toFixed(2)}x (wall ours/ctr-remote ${(ow / tw).toFixed(2)}); ` +
        `CPU ours/ctr-remote ${(oc / tc).toFixed(2)}, ours/(ctr-remote + containerd) ${(oc / (tc + dc)).toFixed(2)}; ` +
        `peak RSS ours/ctr-remote ${(or / tr).toFixed(2)}; output ${(((osz - tsz) / tsz) * 100).toFixed(2)}% vs ctr-remote`);
      console.log(`issue targets: >= 3x faster ${tw / ow >= 3 ? 'met' : 'MISSED'}, output <= +1% ${osz <= tsz * 1.01 ? 'met' : 'MISSED'}, ` +
        `peak memory < 300 MB ${or * 2 ** 20 < 300e6 ? 'met' : 'MISSED'}`);

      // The TOC digest ctr-remote (Go's estargz reader) computes from our blobs must be our annotation.
      const out = join(dir, `ours-${data.name}`);
      const ourArchive = join(dir, `ours-${data.name}.tar`);
      await run(bin.tar, ['-C', out, '-cf', ourArchive, '.']);
      await ctr('images', 'import', '--no-unpack', '--base-name', `ours-${data.name}`, ourArchive);
      for (const layer of (await imageManifest(`ours-${data.name}:esgz`)).layers) {
        const read = (await ctr('images', 'get-toc-digest', layer.digest)).trim();
        const annotated = layer.annotations?.[TOC_DIGEST];
        console.log(`TOC digest check ${layer.digest.slice(0, 19)}: ctr-remote reads ${read}, annotation ${read === annotated ? 'matches' : `DIFFERS: ${annotated}`}`);
        if (read !== annotated) process.exitCode = 1;
      }
      await rm(ourArchive);
    }
    // A rough sign of other work during the runs (the conversions themselves add about 2 to it).
    console.log(`\nload average at the end ${loadavg()[0]?.toFixed(2)}`);
  } finally {
    await ws.close();
  }
}

runMain(main);
