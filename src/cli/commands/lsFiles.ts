import type { Command } from 'commander';
import { listImageFiles } from '../../core/jobs/index.js';
import { formatReference, parseReference, type Platform } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { entryLine, gapLines } from '../entries.js';
import { printJson, terminalLines } from '../format.js';
import { parsePlatformOption } from '../options.js';

interface LsFilesOptions {
  platform?: Platform;
  json?: boolean;
}

export function registerLsFiles(program: Command): void {
  program
    .command('ls-files')
    .description('list the root filesystem a container of the image sees (layers merged, whiteouts applied), from the TOCs and zTOCs only')
    .argument('<ref>', 'registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .argument('[path]', 'list only this folder (recursively) or file, e.g. /etc')
    .option('--platform <os/arch[/variant]>', 'the platform to use from a multi-platform image', parsePlatformOption)
    .option('--json', 'print JSON: {reference, entries, gaps, layers}')
    .action(async (input: string, path: string | undefined, options: LsFilesOptions, command: Command) => {
      const ref = parseReference(input);
      await withStores(command, async (stores, signal) => {
        const r = await listImageFiles(await stores.open(ref), ref.digest ?? ref.tag, path, { signal, platform: options.platform });
        if (options.json) printJson({ reference: formatReference(ref), ...r });
        else process.stdout.write(terminalLines([...r.entries.map((e) => entryLine(e)), ...gapLines(r.gaps)]));
      });
    });
}
