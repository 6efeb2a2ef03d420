// Resolving a path the way the kernel does inside a container's root (or a layer's): symbolic links in any
// component are followed (absolute ones from the root, relative ones from their folder, `..`
// after a link climbing from its target), never above the root and at most MAX_LINK_HOPS times.
import { LazyImageError } from '../errors.js';
import { MAX_LINK_HOPS } from '../limits.js';

export interface Linked {
  type: string;
  linkname: string;
}

/**
 * The clean path `path` leads to, with what `lookup` says is there (undefined when nothing is).
 * `lookup` is asked for clean paths only; a hard link at the end is left to the caller, since it
 * names a file of its own layer.
 */
export async function followLinks<T extends Linked>(path: string, lookup: (path: string) => T | undefined | Promise<T | undefined>, where: string): Promise<{ path: string; entry: T | undefined }> {
  let pending = components(path);
  const done: string[] = [];
  let hops = 0;
  /** What `lookup` said of `done`, while that is still the path it was asked for. */
  let found: { entry: T | undefined } | undefined;
  while (pending.length) {
    const name = pending.shift()!;
    found = undefined;
    if (name === '..') {
      done.pop();
      continue;
    }
    done.push(name);
    const entry = await lookup(done.join('/'));
    if (entry?.type !== 'symlink') {
      found = { entry };
      continue;
    }
    if (++hops > MAX_LINK_HOPS) throw new LazyImageError('INVALID_FORMAT', `${where}: more than ${MAX_LINK_HOPS} symbolic links from /${components(path).join('/')}`, { ref: where });
    done.pop();
    if (entry.linkname.startsWith('/')) done.length = 0;
    pending = [...components(entry.linkname), ...pending];
  }
  const resolved = done.join('/');
  found ??= { entry: resolved ? await lookup(resolved) : undefined };
  return { path: resolved, entry: found.entry };
}

/** A path's names, without empty and `.` components (`..` stays: its meaning depends on links). */
function components(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}
