import type { Command } from 'commander';
import { findImageFiles } from '../../core/jobs/index.js';
import type { MergedEntry } from '../../core/lazy/index.js';
import { formatReference, parseReference, type Platform } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { entryLine, gapLines } from '../entries.js';
import { printJson, terminalLines } from '../format.js';
import { parsePlatformOption, parsePositiveInt } from '../options.js';

interface FindOptions {
  platform?: Platform;
  limit?: number;
  json?: boolean;
}

export function registerFind(program: Command): void {
  program
    .command('find')
    .description('find files of the image\'s merged root by name or path glob, saying where each lives (no file content fetched)')
    .argument('<ref>', 'registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .argument('<glob>', 'a name (\'*.so\', \'{passwd,group}\') or, with a slash, a path (\'usr/lib/**/*.py\')')
    .option('--limit <n>', 'stop after n matches', parsePositiveInt)
    .option('--platform <os/arch[/variant]>', 'the platform to use from a multi-platform image', parsePlatformOption)
    .option('--json', 'print JSON: {reference, entries, gaps, layers}')
    .action(async (input: string, glob: string, options: FindOptions, command: Command) => {
      const ref = parseReference(input);
      await withStores(command, async (stores, signal) => {
        const r = await findImageFiles(await stores.open(ref), ref.digest ?? ref.tag, glob, { signal, platform: options.platform, limit: options.limit });
        if (options.json) printJson({ reference: formatReference(ref), ...r });
        else process.stdout.write(terminalLines([...r.entries.map((e) => entryLine(e, fetchedBy(e))), ...gapLines(r.gaps)]));
      });
    });
}

/** How a snapshotter gets the file's data: before start (an eStargz prefetch) or on first read, and from where. */
function fetchedBy(e: MergedEntry): string {
  if (e.type !== 'reg') return '';
  if (e.spans) return e.spans[0] === e.spans[1] ? `  [SOCI span ${e.spans[0]}]` : `  [SOCI spans ${e.spans[0]}-${e.spans[1]}]`;
  if (e.chunks !== undefined) return `  [eStargz ${e.prefetched ? 'prefetched' : 'on demand'}, ${e.chunks} ${e.chunks === 1 ? 'chunk' : 'chunks'}]`;
  return e.size === 0 ? '  [no data]' : '';
}
