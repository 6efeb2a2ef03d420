// Temporary folders that the suite removes when it ends.
import { after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Call at the top of a `describe` (or a file): returns a function making fresh temporary folders,
 * all removed by an `after` hook of that suite.
 */
export function useTempDirs(prefix = 'lazyimg-test-'): () => Promise<string> {
  const made: string[] = [];
  after(async () => {
    await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}
