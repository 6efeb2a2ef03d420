// What every command shares: the global options turned into one Stores instance, closed when the
// command is done, and a signal that Ctrl-C aborts.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { LazyImageError } from '../core/errors.js';
import { Stores } from '../core/image/index.js';

export interface GlobalOptions {
  insecure?: string[];
  caFile?: string;
}

/** Runs a command's work with the stores its global options describe, and closes them after. */
export async function withStores<T>(command: Command, work: (stores: Stores, signal: AbortSignal) => Promise<T>): Promise<T> {
  const stores = createStores(command.optsWithGlobals<GlobalOptions>());
  try {
    return await work(stores, interruptSignal());
  } finally {
    await stores.close();
  }
}

function createStores(options: GlobalOptions): Stores {
  let ca: Buffer | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile);
    } catch (e) {
      throw new LazyImageError('INVALID_ARGUMENT', `Cannot read CA file ${options.caFile}: ${(e as Error).message}`);
    }
  }
  return new Stores({ insecure: options.insecure ?? [], ...(ca ? { ca } : {}) });
}

/** A signal aborted by Ctrl-C, so jobs clean up their temporary files before we exit. */
function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  return controller.signal;
}
