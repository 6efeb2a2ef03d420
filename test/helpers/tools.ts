// Locates the real tools the tests drive. A missing tool fails the test loudly with how to get it.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where .ci/run caches Go-built reference tools (outside the repository). */
export const TOOLS_DIR = process.env.LAZYIMG_TOOLS ?? join(homedir(), '.cache', 'lazy-images', 'tools');

export const DISTRIBUTION_V3 = 'v3.1.2';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of a program on PATH, or an error naming how to install it. */
export function requireTool(name: string, hint: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(dir, name);
    if (dir && executable(path)) return path;
  }
  throw new Error(`Required tool "${name}" is missing: ${hint}`);
}

/** A tool built by .ci/run into the tools cache. */
export function requireCachedTool(relative: string): string {
  const path = join(TOOLS_DIR, relative);
  if (!executable(path)) throw new Error(`Required tool ${path} is missing: run .ci/run (it builds the reference tools into ${TOOLS_DIR})`);
  return path;
}
