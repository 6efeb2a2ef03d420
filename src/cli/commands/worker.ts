import type { Command } from 'commander';
import { formatTable, runConformance } from '../../worker/conformance.js';
import { serveWorker } from '../../worker/server.js';
import { parsePositiveInt } from '../options.js';
import { LazyImageError } from '../../core/errors.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('serve the worker protocol on stdin/stdout (docs/worker-protocol.md); logs go to stderr')
    .option('--max-jobs <n>', 'jobs run at once, unless the client asks for another number', parsePositiveInt)
    .action(async (options: { maxJobs?: number }) => {
      const code = await serveWorker(process.stdin, process.stdout, {
        log: (line) => process.stderr.write(`${line}\n`),
        maxConcurrentJobs: options.maxJobs,
      });
      process.exit(code);
    });

  program
    .command('worker-conformance')
    .description('check a worker command against the protocol scenarios and print a pass/fail table')
    .argument('<command...>', 'the worker command and its arguments, after --')
    .option('--timeout <seconds>', 'how long to wait for each answer', parsePositiveInt)
    .action(async (command: string[], options: { timeout?: number }) => {
      const results = await runConformance(command, {
        ...(options.timeout ? { timeoutMs: options.timeout * 1000 } : {}),
        onResult: (r) => process.stderr.write(`${r.skipped ? 'skip' : r.passed ? 'pass' : 'FAIL'}  ${r.name}\n`),
      });
      process.stdout.write(`${formatTable(results)}\n`);
      const failed = results.filter((r) => !r.passed);
      if (failed.length) throw new LazyImageError('INVALID_FORMAT', `${failed.length} of ${results.length} conformance scenarios failed: ${failed.map((r) => r.name).join(', ')}`);
    });
}
