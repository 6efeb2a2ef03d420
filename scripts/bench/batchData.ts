// The synthetic fleet of `npm run bench:batch`, built once into one OCI layout in the cache
// (CACHE/bench-batch/layout, tags app01..app20): 3 base images cut from the Debian base image of
// the tests (test/integration/fixtures/baseImage.sh), no layer in common between them, and 20
// service images, each a base plus 1 or 2 small layers of its own (generated, deterministic).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OciLayoutStore, writeImage, type LayerInput } from '../../src/core/oci/index.js';
import type { TarEntry } from '../../src/core/tar/index.js';
import { CACHE, layoutManifest, run } from './measure.js';
import { BASE } from './pullRun.js';

export const FLEET_LAYOUT = join(CACHE, 'bench-batch', 'layout');
export const FLEET_SIZE = 20;

/** Each base layer: a part of the Debian root filesystem, as `tar` arguments run in it. */
const BASES: Record<string, Array<{ label: string; args: string[] }>> = {
  debian: [
    { label: 'the system without /usr/share, Python, Node.js and apt state', args: ['--exclude=./usr/share', '--exclude=./usr/local', '--exclude=./usr/lib/python3', '--exclude=./usr/lib/python3.11', '--exclude=./var/cache', '--exclude=./var/lib', '.'] },
    { label: '/usr/share', args: ['./usr/share'] },
  ],
  python: [
    { label: 'the Python 3.11 standard library', args: ['./usr/lib/python3.11'] },
    { label: 'Python packages (pip)', args: ['./usr/lib/python3'] },
    { label: 'apt lists and dpkg state', args: ['./var/lib'] },
  ],
  node: [
    { label: 'the Node.js binary', args: ['./usr/local/bin'] },
    { label: 'npm', args: ['./usr/local/lib'] },
  ],
};
export const BASE_NAMES = Object.keys(BASES);

export interface FleetImage {
  /** The tag in the layout, and the repository name in the registry (fleet/<name>). */
  name: string;
  base: string;
  /** Layer digests, base first. */
  layers: string[];
  layerSizes: number[];
}

/** The i-th image (0-based): bases taken in turn; every other image has a second own layer. */
function imageSpec(i: number): { name: string; base: string; ownLayers: number } {
  return { name: `app${String(i + 1).padStart(2, '0')}`, base: BASE_NAMES[i % BASE_NAMES.length]!, ownLayers: i % 2 === 0 ? 2 : 1 };
}

/** Deterministic pseudo-random bytes: SHA-256 of a seed and a counter. */
function bytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let off = 0, n = 0; off < size; off += 32, n++) createHash('sha256').update(`${seed}/${n}`).digest().copy(out, off);
  return out;
}

const WORDS = ['const', 'return', 'function', 'request', 'response', 'handler', 'await', 'config', 'user', 'id', 'if', 'else', 'for', 'of', 'new', 'Error', 'status', 'json', 'items', 'length', 'map', 'filter', 'value', 'key', 'export', 'import', 'from', 'log', 'count', 'true', 'false', 'null'];

/** Source-like text: lines of words picked by the pseudo-random bytes, so it compresses as code does. */
function text(seed: string, size: number): Buffer {
  const pick = bytes(seed, size);
  let s = '';
  for (let i = 0; s.length < size; i++) s += (i % 9 === 8 ? '\n  ' : ' ') + WORDS[pick[i % size]! % WORDS.length];
  return Buffer.from(s.slice(0, size));
}

/** An image's own layers: the service (sources and a binary asset of 1-4 MiB), and maybe its config. */
function ownLayers(name: string, count: number, index: number): LayerInput[] {
  const dir = (path: string): TarEntry => ({ name: path, type: 'directory', mode: 0o755 });
  const file = (path: string, content: Buffer): TarEntry => ({ name: path, type: 'file', mode: 0o644, content });
  const app: TarEntry[] = [dir('srv/'), dir(`srv/${name}/`), dir(`srv/${name}/src/`)];
  for (let f = 0; f < 150 + 20 * index; f++) app.push(file(`srv/${name}/src/module${f}.js`, text(`${name}/${f}`, 2048 + ((f * 997) % 14000))));
  app.push(file(`srv/${name}/asset.bin`, bytes(`${name}/asset`, (1 + (index % 4)) * 2 ** 20)));
  const layers: LayerInput[] = [{ entries: app, createdBy: `COPY ${name} /srv/${name}` }];
  if (count > 1) layers.push({ entries: [dir('etc/'), dir(`etc/${name}/`), file(`etc/${name}/config.yaml`, text(`${name}/config`, 4096))], createdBy: `COPY config.yaml /etc/${name}/` });
  return layers;
}

/** Builds the fleet layout unless it is there; returns the images as the layout holds them. */
export async function buildFleet(): Promise<FleetImage[]> {
  if (!existsSync(join(FLEET_LAYOUT, 'index.json'))) {
    if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh`);
    await mkdir(join(FLEET_LAYOUT, '..'), { recursive: true });
    const work = await mkdtemp(join(FLEET_LAYOUT, '..', 'work-'));
    try {
      process.stderr.write(`bench data: building the fleet in ${FLEET_LAYOUT} (a few minutes, once)\n`);
      const rootfs = join(work, 'rootfs');
      await mkdir(rootfs);
      const source = await layoutManifest(BASE, 'bookworm');
      for (const layer of source.layers) await run('tar', ['-C', rootfs, '-xzf', join(BASE, 'blobs', ...layer.digest.split(':'))]);
      // Fixed order, times and owners: the same bytes on every build.
      const tar = async (args: string[]): Promise<Buffer> => (await promisify(execFile)('tar', ['-C', rootfs, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', ...args], { encoding: 'buffer', maxBuffer: 2 ** 30 })).stdout;
      const bases = new Map<string, Buffer[]>();
      for (const [name, parts] of Object.entries(BASES)) bases.set(name, await Promise.all(parts.map((p) => tar(p.args))));
      const tmp = join(work, 'layout');
      const store = await OciLayoutStore.open(tmp, { create: true });
      for (let i = 0; i < FLEET_SIZE; i++) {
        const spec = imageSpec(i);
        const base = bases.get(spec.base)!.map((t, n): LayerInput => ({ tar: t, createdBy: `${spec.base} base: ${BASES[spec.base]![n]!.label}` }));
        await writeImage(store, [...base, ...ownLayers(spec.name, spec.ownLayers, i)], { tag: spec.name, runtime: { Cmd: ['/bin/sh'] } });
        process.stderr.write(`bench data: ${spec.name} on ${spec.base}\n`);
      }
      await rename(tmp, FLEET_LAYOUT);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  const images: FleetImage[] = [];
  for (let i = 0; i < FLEET_SIZE; i++) {
    const spec = imageSpec(i);
    const manifest = await layoutManifest(FLEET_LAYOUT, spec.name);
    images.push({ name: spec.name, base: spec.base, layers: manifest.layers.map((l) => l.digest), layerSizes: manifest.layers.map((l) => l.size) });
  }
  return images;
}

/** What a base is made of, for the report. */
export function baseLabels(name: string): string[] {
  return BASES[name]!.map((p) => p.label);
}
