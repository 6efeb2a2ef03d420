// The order entries take in an eStargz blob, as the Go converter decides it: a later entry for the
// same path replaces the earlier one (and takes the later position); prioritized files come first,
// each after its parent directories and, for a hard link, after its target; then the landmark;
// then everything else in tar order. A prioritized path that goes through a symbolic link of the
// layer (`/bin/bash` where `bin` links to `usr/bin`) is the file it leads to, as a container
// opening it would find; the Go converter takes names literally and misses those.
import { cleanEntryName, followLinks } from '../tar/index.js';
import { NO_PREFETCH_LANDMARK, PREFETCH_LANDMARK, TOC_TAR_NAME } from './toc.js';

export interface Named {
  header: { name: string; type: string; linkname: string };
}

export interface Ordered<T> {
  /** Entries in output order, with `'landmark'` where the landmark file goes. */
  order: Array<T | 'landmark'>;
  landmark: typeof PREFETCH_LANDMARK | typeof NO_PREFETCH_LANDMARK;
  /** Prioritized paths not in this layer. */
  missing: string[];
}

export async function orderEntries<T extends Named>(entries: T[], prioritized: string[], where: string): Promise<Ordered<T>> {
  // Last one wins; a Map keeps first-insertion order, so re-insert to take the later position.
  const byName = new Map<string, T>();
  for (const e of entries) {
    const name = cleanEntryName(e.header.name);
    if (name === TOC_TAR_NAME || name === PREFETCH_LANDMARK || name === NO_PREFETCH_LANDMARK) continue;
    byName.delete(name);
    byName.set(name, e);
  }
  const order: Array<T | 'landmark'> = [];
  const picked = new Set<string>();
  const missing: string[] = [];

  const move = (path: string, depth: number): boolean => {
    const name = cleanEntryName(path);
    if (name === '') {
      const root = byName.get('');
      if (root && !picked.has('')) {
        order.push(root);
        picked.add('');
      }
      return true;
    }
    if (!byName.has(name)) return false;
    // Links can point at each other; the depth cap keeps a hostile loop from recursing forever.
    if (depth > 256) return true;
    const slash = name.lastIndexOf('/');
    move(slash < 0 ? '' : name.slice(0, slash), depth + 1);
    const e = byName.get(name)!;
    if (e.header.type === 'hardlink') move(e.header.linkname, depth + 1);
    if (!picked.has(name)) {
      order.push(e);
      picked.add(name);
    }
    return true;
  };
  const lookup = (name: string): { type: string; linkname: string } | undefined => byName.get(name)?.header;
  for (const path of prioritized) {
    if (move(path, 0)) continue;
    // A link loop leads nowhere: the path is missing, as any other that leads nowhere.
    const resolved = await followLinks(path, lookup, where).catch(() => undefined);
    if (!resolved?.entry || !move(resolved.path, 0)) missing.push(path);
  }

  const landmark = prioritized.length ? PREFETCH_LANDMARK : NO_PREFETCH_LANDMARK;
  order.push('landmark');
  for (const [name, e] of byName) if (!picked.has(name)) order.push(e);
  return { order, landmark, missing };
}
