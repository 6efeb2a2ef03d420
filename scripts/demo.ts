// `npm run demo`: builds the sample image as an OCI layout in .demo/ and inspects it with the CLI.
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { OciLayoutStore } from '../src/core/oci/index.js';
import { writeSampleImage } from './sampleImage.js';

async function main(): Promise<void> {
  const root = resolve(__dirname, '..', '..');
  const layout = join(root, '.demo', 'layout');
  await rm(layout, { recursive: true, force: true });
  const store = await OciLayoutStore.open(layout, { create: true });
  const image = await writeSampleImage(store, 'sample');
  console.log(`Built sample image ${image.manifest.digest} in ${layout}\n`);
  const cli = join(root, 'dist', 'cli.js');
  const ref = `oci:${layout}:sample`;
  console.log(`$ lazyimg inspect ${ref}`);
  execFileSync(process.execPath, [cli, 'inspect', ref], { stdio: 'inherit' });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
