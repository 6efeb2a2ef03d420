import type { Command } from 'commander';
import { LazyImageError } from '../../core/errors.js';
import { verifyImage } from '../../core/jobs/index.js';
import { formatReference, parseReference } from '../../core/oci/index.js';
import { createStores, interruptSignal, type GlobalOptions } from '../context.js';
import { formatBytes, printJson } from '../format.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('read an image back, every manifest and blob, and check each against its digest and size')
    .argument('<ref>', 'registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .option('--json', 'print the report as JSON')
    .action(async (input: string, options: { json?: boolean }, command: Command) => {
      const ref = parseReference(input);
      const stores = createStores(command.optsWithGlobals<GlobalOptions>());
      try {
        const report = await verifyImage(await stores.open(ref), ref.digest ?? ref.tag, { signal: interruptSignal() });
        if (options.json) printJson({ reference: formatReference(ref), ...report });
        else {
          process.stdout.write(`${report.ok ? 'OK' : 'FAILED'}: ${formatReference(ref)} ${report.digest}, ${report.blobs} blobs, ${formatBytes(report.bytes)} read\n`);
          for (const p of report.problems) process.stdout.write(`  ${p.digest}: ${p.message}\n`);
        }
        // A failed check is a failed command, whatever the output format.
        if (!report.ok) {
          const first = report.problems[0];
          throw new LazyImageError(first?.code ?? 'INVALID_FORMAT', `${formatReference(ref)} failed verification: ${report.problems.length} problem(s), first ${first?.message ?? ''}`, { ref: formatReference(ref) });
        }
      } finally {
        await stores.close();
      }
    });
}
