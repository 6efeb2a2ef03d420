// `lazyimg`: the command line, on the same core jobs as the worker and the extension.
import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { describeError, SnapshotterError } from '../core/errors.js';
import { terminalText } from '../core/format.js';
import { registerBatch } from './commands/batch.js';
import { registerCat } from './commands/cat.js';
import { registerConvert } from './commands/convert.js';
import { registerCopy } from './commands/copy.js';
import { registerFind } from './commands/find.js';
import { registerInspect } from './commands/inspect.js';
import { registerLint } from './commands/lint.js';
import { registerLs } from './commands/ls.js';
import { registerLsFiles } from './commands/lsFiles.js';
import { registerOptimize } from './commands/optimize.js';
import { registerPull } from './commands/pull.js';
import { registerSnapshotter } from './commands/snapshotter.js';
import { registerIndex } from './commands/sociIndex.js';
import { registerZtoc } from './commands/ztoc.js';
import { registerToc } from './commands/toc.js';
import { registerUntag } from './commands/untag.js';
import { registerVerify } from './commands/verify.js';
import { registerWorker } from './commands/worker.js';
import { collect } from './options.js';

/** Exit codes: 0 success, 1 the operation failed, 2 the command line was wrong. */
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

export function buildProgram(): Command {
  const program = new Command('lazyimg')
    .description('Inspect, copy and prepare container images for lazy pulling (eStargz, SOCI).')
    .version('0.1.0')
    .option('--insecure <host>', 'allow plain HTTP and unverified TLS for this registry (repeatable)', collect, [])
    .option('--ca-file <path>', 'also trust the PEM certificate authorities in this file')
    // Usage errors get the same one-line shape as every other failure.
    .configureOutput({ outputError: (text, write) => write(`lazyimg: ${oneLine(text.replace(/^error: /, ''))} (run lazyimg --help for usage)\n`) })
    .exitOverride();
  registerLs(program);
  registerInspect(program);
  registerCopy(program);
  registerUntag(program);
  registerConvert(program);
  registerOptimize(program);
  registerVerify(program);
  registerToc(program);
  registerIndex(program);
  registerBatch(program);
  registerZtoc(program);
  registerCat(program);
  registerLsFiles(program);
  registerFind(program);
  registerLint(program);
  registerSnapshotter(program);
  registerPull(program);
  registerWorker(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version "fail" with exit code 0; commander has printed what it had to say.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    process.stderr.write(`lazyimg: ${oneLine(describeError(e))}\n`);
    // A daemon that would not start: what to do about it, and what its log said.
    if (e instanceof SnapshotterError) {
      process.stderr.write(`lazyimg: what to do: ${oneLine(e.action)}\n`);
      if (e.logTail) process.stderr.write(e.logTail.split('\n').map((l) => `  | ${oneLine(l)}\n`).join(''));
    }
    return EXIT_FAILURE;
  }
}

/**
 * One line fit for a terminal: messages quote what servers sent (error bodies, bytes that are not
 * JSON) and names from images, which must not move the cursor or restyle the user's terminal.
 */
function oneLine(text: string): string {
  return terminalText(text.trim().replace(/\s*[\r\n]\s*/g, ' ').replace(/\t/g, ' '));
}

/** Runs the CLI on this process's arguments and sets its exit code. */
export function run(): void {
  // Node waits, before exiting, for V8 to finish optimizing undici's WebAssembly HTTP parser in
  // the background: about 130 ms added to every short command, for speed it would never use.
  // The worker is long-lived and keeps the optimizing compiler.
  if (process.argv[2] !== 'worker') setFlagsFromString('--liftoff-only');
  // `lazyimg toc ... | head` closes the pipe early: that is the reader's choice, not a failure.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) run();
