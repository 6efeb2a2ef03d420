// What every command shares: the global options turned into one Stores instance.
import { readFileSync } from 'node:fs';
import { Stores } from '../core/jobs/index.js';
import { LazyImageError } from '../core/errors.js';

export interface GlobalOptions {
  insecure?: string[];
  caFile?: string;
}

export function createStores(options: GlobalOptions): Stores {
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
export function interruptSignal(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  process.once('SIGTERM', () => controller.abort());
  return controller.signal;
}
