// `npm run demo`: the main job on the embedded default, an OCI layout on disk (no registry, no
// network). It builds the sample image, converts it to eStargz, builds a SOCI index, verifies
// both the way the snapshotters will, then reads one file lazily through each format and says
// what that cost against the layer's size.
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { OciLayoutStore } from '../src/core/oci/index.js';
import { writeSampleImage } from './sampleImage.js';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli.js');

/** Runs the CLI as a user would type it, showing the command first. */
function lazyimg(...args: string[]): void {
  console.log(`\n$ lazyimg ${args.join(' ')}`);
  execFileSync(process.execPath, [CLI, ...args], { stdio: 'inherit' });
}

async function main(): Promise<void> {
  const started = Date.now();
  const layout = join(ROOT, '.demo', 'layout');
  await rm(layout, { recursive: true, force: true });
  const store = await OciLayoutStore.open(layout, { create: true });
  const image = await writeSampleImage(store, 'sample');
  console.log(`Built the sample image (3 layers, one a 12 MiB model file) in ${layout}: ${image.manifest.digest}`);
  const ref = (tag: string): string => `oci:${layout}:${tag}`;

  lazyimg('inspect', ref('sample'));
  lazyimg('convert', '--format', 'estargz', ref('sample'), ref('sample-esgz'));
  // 1 MiB spans rather than the default 4 MiB: a 12 MiB layer then shows what a span read costs.
  lazyimg('index', '--min-layer-size', '0', '--span-size', '1048576', ref('sample'), ref('sample-soci'));
  lazyimg('verify', ref('sample-esgz'));
  lazyimg('verify', ref('sample-soci'));
  lazyimg('cat', '--stats', ref('sample-esgz'), '/opt/model/README');
  lazyimg('cat', '--stats', ref('sample-soci'), '/opt/model/README');
  console.log(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Each read fetched only part of the 12 MiB layer: eStargz the`);
  console.log("file's own chunk, SOCI the span that holds it. The three tags are in the editor's Lazy Images view too.");
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
