// `npm run bench:lazypull`: how soon a container of the Debian base image runs, pulled in full
// (containerd's overlayfs snapshotter) and pulled lazily: eStargz through containerd-stargz-grpc,
// from `lazyimg convert` and from ctr-remote, and SOCI v2 through soci-snapshotter-grpc, from
// `lazyimg index` and from `soci convert`. Every pull goes through a proxy that counts the bytes
// the registry sends, to a fresh containerd v2.2.9 and daemon (test/integration/fixtures), so
// nothing is cached. From the start of the pull: when the image's root filesystem is ready (the
// pull command returns), and, with a snapshot of it mounted as a bundle's rootfs and run by runc,
// when the command prints its first byte and when it exits. Medians of BENCH_RUNS runs; each run
// does every case once, in an order rotated from run to run and reversed every other run, so that
// load, and what the case before leaves behind, fall on all alike.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { requireCachedTool, requireTool } from '../../test/helpers/tools.js';
import { startRegistry, type RegistryFixture } from '../../test/integration/fixtures/registry.js';
import { CLI, machine, median, run, RUNS, runMain, workspace } from './measure.js';
import { BASE, describeImage, mib, runOrder, seconds, startPullRunner, type ImageInfo, type PullCase, type PullRunner, type PullSample } from './pullRun.js';

const REPO = 'bench/debian';
/** sh and cat print first; python3's start-up and ls of /usr/bin read more of the image before the exit. */
const COMMAND = ['/bin/sh', '-c', 'cat /etc/os-release; python3 -c "import json, sys; print(sys.version.split()[0])"; ls /usr/bin | wc -l'];

const CASES: PullCase[] = [
  { key: 'full', label: 'full pull, overlayfs', tag: 'src', snapshotter: 'overlayfs' },
  { key: 'esgz', label: 'eStargz from lazyimg convert, stargz', tag: 'esgz', snapshotter: 'stargz' },
  { key: 'ref-esgz', label: 'eStargz from ctr-remote, stargz', tag: 'ref-esgz', snapshotter: 'stargz' },
  { key: 'soci', label: 'SOCI v2 from lazyimg index, soci', tag: 'soci', snapshotter: 'soci' },
  { key: 'ref-soci', label: 'SOCI v2 from soci convert, soci', tag: 'ref-soci', snapshotter: 'soci' },
];

async function main(): Promise<void> {
  const bin = {
    ctrRemote: requireTool('ctr-remote', 'apt-get install stargz-snapshotter containerd'),
    runc: requireTool('runc', 'apt-get install runc'),
    soci: requireCachedTool('soci-v0.16.1/soci'),
  };
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh`);
  if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be a positive integer, not ${process.env.BENCH_RUNS}`);

  // The registry, should a failed or interrupted run skip the `finally` below.
  const live: { registry?: RegistryFixture } = {};
  process.once('exit', () => live.registry?.kill());
  const ws = await workspace('lazyimg-bench-lazypull-');
  const { dir, env, containerd } = ws;
  let runner: PullRunner | undefined;
  try {
    const runcVersion = (await run(bin.runc, ['--version'])).split('\n')[0];
    const registry = await startRegistry({ flavor: '3' });
    live.registry = registry;
    const repo = `${registry.host}/${REPO}`;
    const lazyimg = (...args: string[]): Promise<number> => seconds(process.execPath, [CLI, '--insecure', registry.host, ...args], env);

    // Preparation, once: the source image and the four lazy ones, each tool timed.
    const prep: Array<[string, number]> = [];
    process.stderr.write('preparing the images\n');
    prep.push(['lazyimg copy (layout to registry)', await lazyimg('copy', `oci:${BASE}:bookworm`, `${repo}:src`)]);
    prep.push(['lazyimg convert --format estargz (registry to registry)', await lazyimg('convert', '--format', 'estargz', `${repo}:src`, `${repo}:esgz`)]);
    prep.push(['lazyimg index (registry to registry)', await lazyimg('index', `${repo}:src`, `${repo}:soci`)]);
    const ctr = (...args: string[]): Promise<number> => seconds(bin.ctrRemote, ['--address', containerd.address, ...args], env);
    const archive = join(dir, 'base.tar');
    await run('tar', ['-C', BASE, '-cf', archive, '.']);
    prep.push(['ctr-remote images import (Debian containerd 1.6)', await ctr('images', 'import', '--no-unpack', '--base-name', 'src', archive)]);
    prep.push(['ctr-remote images convert --estargz --oci', await ctr('images', 'convert', '--estargz', '--oci', 'src:bookworm', 'src:esgz')]);
    prep.push(['ctr-remote images push (its eStargz)', await ctr('images', 'push', '--plain-http', `${repo}:ref-esgz`, 'src:esgz')]);
    prep.push(['soci convert (v0.16.1, same containerd)', await seconds(bin.soci, ['--address', containerd.address, '--root', join(dir, 'soci-root'), 'convert', 'src:bookworm', 'bench/debian:soci'], env)]);
    prep.push(['ctr-remote images push (soci\'s SOCI image)', await ctr('images', 'push', '--plain-http', `${repo}:ref-soci`, 'bench/debian:soci')]);
    await containerd.stop(); // not needed any more: one daemon less during the pulls
    const images = new Map<string, ImageInfo>();
    for (const c of CASES) images.set(c.tag, await describeImage(registry.host, REPO, c.tag));

    runner = await startPullRunner({
      dir, registryHost: registry.host, repo: REPO, command: COMMAND,
      check: (stdout) => {
        if (!stdout.includes('Debian GNU/Linux 12') || !/^3\.11\.\d+$/m.test(stdout)) throw new Error(`unexpected output:\n${stdout}`);
      },
    });

    const loads = [loadavg()[0]!];
    console.log(`Lazy pull of the Debian base image, median of ${RUNS} runs; ${machine()}; containerd v2.2.9, stargz v0.19.1, soci v0.16.1, ${runcVersion}; load average at start ${loads[0]!.toFixed(2)}`);
    const samples = new Map<string, PullSample[]>(CASES.map((c) => [c.key, []]));
    for (let i = 0; i < RUNS; i++) {
      loads.push(loadavg()[0]!);
      for (const c of runOrder(CASES, i)) {
        const s = await runner.measure(c, images.get(c.tag)!, i);
        samples.get(c.key)!.push(s);
        process.stderr.write(`run ${i + 1}/${RUNS} ${c.label}: ready ${s.readyS.toFixed(2)} s (${mib(s.ready.bytes)} MiB), first output ${s.firstS.toFixed(2)} s (${mib(s.first.bytes)} MiB), done ${s.doneS.toFixed(2)} s (${mib(s.done.bytes)} MiB)${s.blobTwice ? ', a blob fetched twice' : ''}; load ${loadavg()[0]!.toFixed(2)}\n`);
      }
    }

    const m = (key: string, pick: (s: PullSample) => number): number => median(samples.get(key)!.map(pick));
    const full = (pick: (s: PullSample) => number): number => m('full', pick);
    console.log('\nPreparation (one run each; the lazyimg steps go registry to registry, the reference tools work in containerd):');
    console.log('| step | wall (s) |');
    console.log('|---|---:|');
    for (const [step, s] of prep) console.log(`| ${step} | ${s.toFixed(2)} |`);
    const digest = (tag: string): string => images.get(tag)!.digest;
    console.log(`SOCI-enabled image index: lazyimg index ${digest('soci')}, soci convert ${digest('ref-soci')}: ${digest('soci') === digest('ref-soci') ? 'the same' : 'different'}`);

    console.log('\nTimes from the start of the pull (s), medians:');
    console.log('| case | image (MiB) | rootfs ready | first output | command done | ready vs full pull | first output vs full pull | done vs full pull |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of CASES) {
      const [r, f, d] = [m(c.key, (s) => s.readyS), m(c.key, (s) => s.firstS), m(c.key, (s) => s.doneS)];
      console.log(`| ${c.label} | ${mib(images.get(c.tag)!.totalBytes)} | ${r.toFixed(2)} | ${f.toFixed(2)} | ${d.toFixed(2)} | ` +
        `${(r / full((s) => s.readyS)).toFixed(2)}x | ${(f / full((s) => s.firstS)).toFixed(2)}x | ${(d / full((s) => s.doneS)).toFixed(2)}x |`);
    }
    console.log('\nBytes the registry sent (MiB), medians; "of the layer" is the layer blob, the rest is manifests, config, SOCI index and zTOC:');
    console.log('| case | at rootfs ready | of the layer | at first output | of the layer | at command done | of the layer | requests by done | first output vs full pull | done vs full pull | runs with a blob fetched twice |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of CASES) {
      const f = m(c.key, (s) => s.first.bytes);
      const d = m(c.key, (s) => s.done.bytes);
      console.log(`| ${c.label} | ${mib(m(c.key, (s) => s.ready.bytes))} | ${mib(m(c.key, (s) => s.ready.layerBytes))} | ${mib(f)} | ${mib(m(c.key, (s) => s.first.layerBytes))} | ` +
        `${mib(d)} | ${mib(m(c.key, (s) => s.done.layerBytes))} | ${m(c.key, (s) => s.done.requests)} | ` +
        `${((100 * f) / full((s) => s.first.bytes)).toFixed(2)}% | ${((100 * d) / full((s) => s.done.bytes)).toFixed(2)}% | ` +
        `${samples.get(c.key)!.filter((s) => s.blobTwice).length} of ${RUNS} |`);
    }
    console.log(`\nload average at the start of each run ${loads.slice(1).map((l) => l.toFixed(2)).join(', ')}; at the end ${loadavg()[0]!.toFixed(2)}`);
  } finally {
    await runner?.close();
    await live.registry?.stop();
    live.registry = undefined;
    await ws.close();
  }
}

runMain(main);
