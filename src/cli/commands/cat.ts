import { once } from 'node:events';
import type { Command } from 'commander';
import { catFile } from '../../core/jobs/index.js';
import { parseReference, type Platform } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { formatBytes } from '../format.js';
import { parsePlatformOption } from '../options.js';

interface CatOptions {
  platform?: Platform;
  layer?: string;
  stats?: boolean;
}

export function registerCat(program: Command): void {
  program
    .command('cat')
    .description('print one file of an image as its container sees it (layers merged), fetching only what a lazy snapshotter would (SOCI spans or eStargz chunks)')
    .argument('<ref>', 'registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .argument('<path>', 'the file, e.g. /etc/os-release')
    .option('--platform <os/arch[/variant]>', 'the platform to use from a multi-platform image', parsePlatformOption)
    .option('--layer <n|digest>', 'read the file from this layer\'s own files (1 is the base), not from the merged root the container sees')
    .option('--stats', 'also say, on stderr, where the file came from and how many bytes were fetched')
    .action(async (input: string, path: string, options: CatOptions, command: Command) => {
      const ref = parseReference(input);
      await withStores(command, async (stores, signal) => {
        const r = await catFile(await stores.open(ref), ref.digest ?? ref.tag, path, async (chunk) => {
          if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
        }, { signal, platform: options.platform, layer: options.layer });
        if (options.stats) {
          const spans = r.spans ? `, ${r.spans.length === 1 ? 'span' : 'spans'} ${r.spans.join(', ')}` : '';
          const size = r.layer.descriptor.size;
          process.stderr.write(`/${r.path}: ${formatBytes(r.length)} from layer ${r.layer.index} (${formatBytes(size)}) via ${r.via}${spans}; fetched ${formatBytes(r.fetched)} (${r.fetched} bytes, ${((r.fetched / size) * 100).toFixed(2)}% of the layer)\n`);
        }
      });
    });
}
