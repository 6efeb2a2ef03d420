// The build context as the rules see it: whether a file is there, and the text of the small files
// (manifests, .dockerignore) that say what an install reads. The CLI and the editor share it.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { RuleContext } from './findings.js';

/** Manifests are small; a bigger file is not one, and is not read. */
const MAX_READ = 1 << 20;

export function buildContext(dir: string): Required<Pick<RuleContext, 'exists' | 'read'>> {
  return {
    exists: (path) => existsSync(join(dir, path)),
    read: (path) => {
      let fd: number | undefined;
      try {
        fd = openSync(join(dir, path), 'r');
        const stat = fstatSync(fd);
        if (!stat.isFile() || stat.size > MAX_READ) return undefined;
        const buffer = Buffer.alloc(stat.size);
        const n = readSync(fd, buffer, 0, stat.size, 0);
        return buffer.subarray(0, n).toString('utf8');
      } catch {
        return undefined;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
  };
}
