// `ls-files` and `find`: an image's merged root filesystem, listed from its layers' TOCs and zTOCs
// only. Layers without one are reported as gaps, never read whole.
import { imageLaziness } from '../image/index.js';
import { MergedTree, type LayerCost, type LayerGap, type MergedEntry } from '../lazy/index.js';
import type { CallOptions, ImageStore, Platform } from '../oci/index.js';

export interface FilesOptions extends CallOptions {
  platform?: Platform;
}

export interface FilesResult {
  entries: MergedEntry[];
  gaps: LayerGap[];
  layers: LayerCost[];
}

/** Every entry at or under `path` (the whole tree by default), depth first, each folder's children by name. */
export async function listImageFiles(store: ImageStore, tagOrDigest: string | undefined, path = '', options: FilesOptions = {}): Promise<FilesResult> {
  const tree = await openTree(store, tagOrDigest, options);
  const top = tree.stat(path);
  const entries = top?.type === 'dir' ? [...(top.path ? [top] : []), ...walk(tree, top.path)] : top ? [top] : tree.list(path);
  return { entries, gaps: tree.gaps, layers: tree.costs() };
}

/** The entries whose name (or path, for a glob with a slash) matches `glob`, at most `limit`. */
export async function findImageFiles(store: ImageStore, tagOrDigest: string | undefined, glob: string, options: FilesOptions & { limit?: number } = {}): Promise<FilesResult> {
  const tree = await openTree(store, tagOrDigest, options);
  return { entries: tree.find(glob, options.limit), gaps: tree.gaps, layers: tree.costs() };
}

async function openTree(store: ImageStore, tagOrDigest: string | undefined, options: FilesOptions): Promise<MergedTree> {
  return MergedTree.open(store, await imageLaziness(store, tagOrDigest, options), store.name, { signal: options.signal });
}

/** A folder's subtree, depth first, each folder's children by name. */
function* walk(tree: MergedTree, dir: string): Iterable<MergedEntry> {
  for (const entry of tree.list(dir)) {
    yield entry;
    if (entry.type === 'dir') yield* walk(tree, entry.path);
  }
}
