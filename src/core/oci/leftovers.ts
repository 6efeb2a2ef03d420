// Temporary files in a layout folder, named after the process that writes them, and the sweep
// that removes those of writers that crashed. A live writer's file is never touched, however old:
// a big layer may take hours to arrive.
import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BREAK_MARKER } from './lock.js';
import { liveness, ownerTag, parseOwnerTag } from './owner.js';

/** Everything this project writes into a layout folder besides the layout starts with this. */
export const OWN_PREFIX = '.lazyimg-';
const TEMP_PREFIX = `${OWN_PREFIX}tmp-`;
/** Files of writers that cannot be checked (another host, an older lazyimg): untouched this long. */
const UNCHECKABLE_STALE_MS = 6 * 3600_000;
/** A lock-break marker lives milliseconds; one this old is left by a process that died breaking. */
const MARKER_STALE_MS = 3600_000;

/** A fresh temporary file name in `dir`: `.lazyimg-tmp-<host>-<pid>-<start>-<random>`. */
export function tempPath(dir: string): string {
  return join(dir, `${TEMP_PREFIX}${ownerTag()}-${randomBytes(8).toString('hex')}`);
}

/** Removes temporary files of dead writers from `dir`, and old markers of the lock `lockName`. */
export async function sweepLeftovers(dir: string, lockName: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(dir)) {
    let old: number | undefined; // how long untouched makes it garbage; undefined: keep
    if (name.startsWith(TEMP_PREFIX)) {
      const owner = parseOwnerTag(name.slice(TEMP_PREFIX.length).replace(/-[0-9a-f]+$/, ''));
      const state = owner ? liveness(owner) : 'unknown';
      if (state === 'dead') old = 0;
      else if (state === 'unknown') old = UNCHECKABLE_STALE_MS;
    } else if (name.startsWith(`${lockName}${BREAK_MARKER}`)) {
      old = MARKER_STALE_MS;
    }
    if (old === undefined) continue;
    const path = join(dir, name);
    // Gone already: another writer swept it, or its owner finished.
    const info = await stat(path).catch(() => undefined);
    if (info && now - info.mtimeMs >= old) await rm(path, { recursive: true, force: true });
  }
}
