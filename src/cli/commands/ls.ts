import type { Command } from 'commander';
import { listNames } from '../../core/jobs/index.js';
import { parseRegistryTarget } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { terminalLines } from '../format.js';
import { parsePositiveInt } from '../options.js';

interface LsOptions {
  limit?: number;
  pageSize?: number;
  json?: boolean;
}

export function registerLs(program: Command): void {
  program
    .command('ls')
    .description('list the repositories of a registry, or the tags of a repository')
    .argument('<target>', 'a registry (ghcr.io, 127.0.0.1:5000) or a repository (ghcr.io/org/app, ubuntu)')
    .option('--limit <n>', 'stop after n names (only the pages needed are fetched)', parsePositiveInt)
    .option('--page-size <n>', 'names asked for per request', parsePositiveInt)
    .option('--json', 'print a JSON array')
    .action(async (input: string, options: LsOptions, command: Command) => {
      const target = parseRegistryTarget(input);
      await withStores(command, async (stores, signal) => {
        const names: string[] = [];
        const pages = listNames(stores, target, {
          signal,
          limit: options.limit,
          pageSize: options.pageSize,
        });
        for await (const page of pages) {
          // Human output streams page by page; JSON needs the whole list.
          if (options.json) names.push(...page.names);
          else process.stdout.write(terminalLines(page.names));
        }
        if (options.json) process.stdout.write(`${JSON.stringify(names)}\n`);
      });
    });
}
