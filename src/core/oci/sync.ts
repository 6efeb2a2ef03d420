// Flushing files and folders to disk, so that a rename published after a crash or power loss
// never points at a file whose bytes were still in the page cache.
import { open } from 'node:fs/promises';

/** Flushes a file's bytes (written by someone else, or through a stream that has closed). */
export async function syncFile(path: string): Promise<void> {
  // Read-only where that is enough: a file copied from a read-only blob keeps its mode. Windows
  // flushes only handles that may write.
  const handle = await open(path, process.platform === 'win32' ? 'r+' : 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a folder's entries, so a file renamed into it stays there. */
export async function syncDir(dir: string): Promise<void> {
  // Windows cannot open a folder as a file; NTFS journals its entries itself.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates `path` (failing if it exists) with `data`, flushed before it is closed. */
export async function writeNewFile(path: string, data: Buffer | string): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
