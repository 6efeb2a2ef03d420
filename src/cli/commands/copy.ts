import type { Command } from 'commander';
import { copyImage, destinationTarget } from '../../core/jobs/index.js';
import { formatReference, parseReference, type Platform } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { formatBytes, printJson, terminalLines } from '../format.js';
import { parsePlatformOption } from '../options.js';

interface CopyCommandOptions {
  allPlatforms?: boolean;
  platform?: Platform;
  /** Commander's `--no-referrers`: false when given. */
  referrers: boolean;
  json?: boolean;
}

export function registerCopy(program: Command): void {
  program
    .command('copy')
    .description('copy an image between registries and OCI layouts (blobs first, manifest last)')
    .argument('<src>', 'source: registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .argument('<dst>', 'destination: registry/repo[:tag] or oci:<dir>[:tag] (a layout, or a new or empty folder to make one in)')
    .option('--all-platforms', 'copy every platform of a multi-platform image, and its index')
    .option('--platform <os/arch[/variant]>', 'the platform to copy from a multi-platform image (default: this machine\'s)', parsePlatformOption)
    .option('--no-referrers', 'leave behind the SOCI v1 indexes that refer to the image (v2 indexes always come along)')
    .option('--json', 'print the result as JSON')
    .action(async (srcInput: string, dstInput: string, options: CopyCommandOptions, command: Command) => {
      const src = parseReference(srcInput);
      const dst = parseReference(dstInput);
      await withStores(command, async (stores, signal) => {
        const source = await stores.open(src);
        const destination = await stores.open(dst, { create: true });
        const { tag, expectDigest } = destinationTarget(src, dst);
        const result = await copyImage(source, src.digest ?? src.tag, destination, tag, {
          signal, expectDigest, allPlatforms: options.allPlatforms, platform: options.platform, referrers: options.referrers,
        });
        process.stderr.write(terminalLines(result.warnings.map((w) => `lazyimg: warning: ${w}`)));
        const summary = { source: formatReference(src), destination: formatReference(dst), ...result };
        if (options.json) {
          printJson(summary);
          return;
        }
        const { uploaded, existed, mounted } = result.blobs;
        const soci = result.sociIndexes.length ? `  SOCI indexes: ${result.sociIndexes.join(', ')}\n` : '';
        process.stdout.write(
          `Copied ${summary.source} to ${summary.destination}\n` +
            `  ${result.descriptor.digest}\n` +
            `  blobs: ${uploaded} copied (${formatBytes(result.bytesUploaded)}), ${existed} already there, ${mounted} mounted\n${soci}`,
        );
      });
    });
}
