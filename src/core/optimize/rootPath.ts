// Paths inside an unpacked root filesystem, resolved as the container would resolve them: symbolic
// links (absolute ones from the root, not from the host's /) in every component, never above the
// root. Unpacking a layer and naming what a workload ran both need it: a link written by one layer
// must not lead the next one's files, or a recorded path, out of the folder.
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { followLinks, type Linked } from '../tar/index.js';

export type DiskType = 'dir' | 'reg' | 'symlink' | 'other';

export interface Found extends Linked {
  type: DiskType;
  size: number;
}

/** What is at a clean path under `root`, links not followed; undefined when nothing is. */
export async function lookupIn(root: string, path: string): Promise<Found | undefined> {
  const full = join(root, path);
  let stat;
  try {
    stat = await lstat(full);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
  if (stat.isSymbolicLink()) return { type: 'symlink', linkname: await readlink(full), size: 0 };
  return { type: stat.isDirectory() ? 'dir' : stat.isFile() ? 'reg' : 'other', linkname: '', size: stat.size };
}

/** The clean path `path` leads to under `root` (links in every component followed), and what is there. */
export function resolveIn(root: string, path: string, where: string): Promise<{ path: string; entry: Found | undefined }> {
  return followLinks(path, (p) => lookupIn(root, p), where);
}
