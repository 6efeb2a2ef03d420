// `npm run bench:merged`: the merged root of a synthetic 4-layer, 20,000-file eStargz image in an
// OCI layout. Opening the MergedTree (reading the TOCs and merging them), listing the root and
// walking every entry, each the median of BENCH_RUNS runs, beside `umoci unpack` of the same image
// and `tar -tzf` of its layers in the same run.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageLaziness } from '../../src/core/image/index.js';
import { convertImage } from '../../src/core/jobs/index.js';
import { MergedTree } from '../../src/core/lazy/index.js';
import { OciLayoutStore, writeImage } from '../../src/core/oci/index.js';
import type { TarEntry } from '../../src/core/tar/index.js';
import { requireTool } from '../../test/helpers/tools.js';
import { layoutManifest, machine, median, run, RUNS, runMain } from './measure.js';

const FILES_PER_LAYER = 5000;
const DIRS = 100;

/**
 * Layer 1 writes 5,000 files in 100 folders; each upper layer writes 5,000 more, replacing a
 * tenth of the files below, whiting out a folder and making another opaque.
 */
function layers(): TarEntry[][] {
  return [0, 1, 2, 3].map((layer) => {
    const entries: TarEntry[] = [];
    if (layer > 0) {
      entries.push({ name: `d${layer * 7}/`, type: 'directory' }, { name: `d${layer * 7}/.wh..wh..opq`, type: 'file', content: Buffer.alloc(0) });
      entries.push({ name: `.wh.d${layer * 7 + 1}`, type: 'file', content: Buffer.alloc(0) });
    }
    for (let i = 0; i < FILES_PER_LAYER; i++) {
      const dir = `d${i % DIRS}`;
      const name = i % 10 === 0 && layer > 0 ? `f${i}` : `l${layer}-f${i}`;
      entries.push({ name: `${dir}/${name}`, type: 'file', content: Buffer.from(`layer ${layer} file ${i}\n`.repeat(4)) });
    }
    return entries;
  });
}

async function timeMs(work: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function medianMs(runs: number, work: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeMs(work));
  return median(times);
}

async function main(): Promise<void> {
  const umoci = requireTool('umoci', 'apt-get install umoci');
  const tar = requireTool('tar', 'apt-get install tar');
  const dir = await mkdtemp(join(tmpdir(), 'lazyimg-bench-merged-'));
  try {
    const store = await OciLayoutStore.open(join(dir, 'layout'), { create: true });
    await writeImage(store, layers().map((entries) => ({ entries })), { tag: 'src' });
    await convertImage(store, 'src', store, 'esgz', {});
    const image = await imageLaziness(store, 'esgz');
    const blobs = (await layoutManifest(join(dir, 'layout'), 'esgz')).layers.map((l) => join(dir, 'layout', 'blobs', ...l.digest.split(':')));

    let tree = await MergedTree.open(store, image, 'bench');
    const files = [...tree.entries()].filter((e) => e.type === 'reg').length;
    const open = await medianMs(RUNS, async () => (tree = await MergedTree.open(store, image, 'bench')));
    const list = await medianMs(RUNS * 10, () => tree.list(''));
    let walked = 0;
    const walk = await medianMs(RUNS * 10, () => {
      walked = 0;
      for (const entry of tree.entries()) if (entry) walked++;
    });
    const unpack = await medianMs(RUNS, async () => {
      await rm(join(dir, 'bundle'), { recursive: true, force: true });
      await run(umoci, ['unpack', '--image', `${join(dir, 'layout')}:esgz`, join(dir, 'bundle')]);
    });
    const tarList = await medianMs(RUNS, async () => {
      for (const blob of blobs) await run(tar, ['-tzf', blob]);
    });

    console.log(`${machine()}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; BENCH_RUNS=${RUNS}`);
    console.log(`image: 4 eStargz layers, ${4 * FILES_PER_LAYER} files written, ${files} regular files and ${walked} entries merged; TOC bytes ${tree.costs().reduce((n, c) => n + c.fetched, 0)}`);
    console.log('');
    console.log('| step | median (ms) | umoci unpack / this | tar -tzf of the layers / this |');
    console.log('|---|---:|---:|---:|');
    const row = (name: string, ms: number): void => console.log(`| ${name} | ${ms.toFixed(3)} | ${(unpack / ms).toFixed(1)}x | ${(tarList / ms).toFixed(1)}x |`);
    row('MergedTree.open (read 4 TOCs, merge)', open);
    row('list(\'\') of the merged root', list);
    row(`entries() walk (${walked} entries)`, walk);
    row('umoci unpack (reference)', unpack);
    row('tar -tzf of the 4 layers (reference)', tarList);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

runMain(main);
