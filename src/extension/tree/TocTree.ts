// An eStargz TOC as a folder tree: directories (listed or only implied by deeper names), files
// with their chunk counts, links with their targets, and which files sit before the prefetch
// landmark. Built once per layer; plain data, no vscode.
import { cleanEntryName, PREFETCH_LANDMARK, type Toc, type TocEntry } from '../../core/estargz/toc.js';

export interface TocItem {
  /** Clean path from the layer root, e.g. `usr/bin/env`. */
  path: string;
  name: string;
  type: 'dir' | 'reg' | 'symlink' | 'hardlink' | 'other';
  /** The entry itself; a directory only implied by its contents has none. */
  entry?: TocEntry;
  /** Separately fetched pieces of a regular file's data (0 for an empty file). */
  chunks: number;
  /** Before `.prefetch.landmark`: fetched in one range before the container starts. */
  prefetched: boolean;
}

export class TocTree {
  private readonly items = new Map<string, TocItem>();
  /** Child names per directory path, sorted once on first use. */
  private readonly dirs = new Map<string, { names: string[]; sorted: boolean }>([['', { names: [], sorted: false }]]);

  constructor(toc: Toc) {
    const landmarkAt = toc.entries.findIndex((e) => e.type === 'reg' && cleanEntryName(e.name) === PREFETCH_LANDMARK);
    let file: TocItem | undefined;
    toc.entries.forEach((e, i) => {
      if (e.type === 'chunk') {
        if (file) file.chunks++;
        return;
      }
      const path = cleanEntryName(e.name);
      if (path === '') return; // the root directory's own entry
      const type = e.type === 'dir' || e.type === 'reg' || e.type === 'symlink' || e.type === 'hardlink' ? e.type : 'other';
      const item: TocItem = { path, name: path.slice(path.lastIndexOf('/') + 1), type, entry: e, chunks: type === 'reg' && (e.size ?? 0) > 0 ? 1 : 0, prefetched: type === 'reg' && i < landmarkAt };
      file = type === 'reg' ? item : undefined;
      this.add(item);
    });
  }

  /** Adds an item under its parent, implying missing parents; a later entry for a path wins. */
  private add(item: TocItem): void {
    const slash = item.path.lastIndexOf('/');
    const parent = slash < 0 ? '' : item.path.slice(0, slash);
    if (parent !== '' && !this.items.has(parent)) this.add({ path: parent, name: parent.slice(parent.lastIndexOf('/') + 1), type: 'dir', chunks: 0, prefetched: false });
    if (!this.items.has(item.path)) this.dirs.get(parent)?.names.push(item.name);
    this.items.set(item.path, item);
    if (item.type === 'dir' && !this.dirs.has(item.path)) this.dirs.set(item.path, { names: [], sorted: false });
  }

  get(path: string): TocItem | undefined {
    return this.items.get(path);
  }

  /** A directory's child names: directories first, then by name. */
  children(path: string): string[] {
    const dir = this.dirs.get(path);
    if (!dir) return [];
    if (!dir.sorted) {
      const isDir = (name: string): boolean => this.items.get(childPath(path, name))?.type === 'dir';
      dir.names.sort((a, b) => Number(isDir(b)) - Number(isDir(a)) || (a < b ? -1 : a > b ? 1 : 0));
      dir.sorted = true;
    }
    return dir.names;
  }
}

/** The path of a child of `dir`. */
export function childPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}
