import type { Command } from 'commander';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { parseTaggedReference } from '../options.js';

export function registerUntag(program: Command): void {
  program
    .command('untag')
    .description('remove a tag from a registry repository or an OCI layout; the manifest and its other tags stay')
    .argument('<ref>', 'registry/repo:tag or oci:<dir>:tag', parseTaggedReference)
    .action(async (ref: ImageReference & { tag: string }, _options: unknown, command: Command) => {
      await withStores(command, async (stores, signal) => {
        await (await stores.open(ref)).deleteTag(ref.tag, { signal });
        process.stdout.write(`Removed the tag ${formatReference(ref)}\n`);
      });
    });
}
