// A layer's files as folders, from whichever index lists them (an eStargz TOC, a SOCI zTOC):
// directories listed or only implied by deeper names, children sorted directories first and
// handed out in pages. Plain data, no vscode.
import type { NamePage } from '../../core/oci/index.js';

export interface FileItem {
  /** Clean path from the layer root, e.g. `usr/bin/env`. */
  path: string;
  name: string;
  type: 'dir' | 'reg' | 'symlink' | 'hardlink' | 'other';
}

export class FileTree<I extends FileItem> {
  private readonly items = new Map<string, I>();
  /** Child names per directory path, sorted once on first use. */
  private readonly dirs = new Map<string, { names: string[]; sorted: boolean }>([['', { names: [], sorted: false }]]);

  /** `implied` makes the item of a directory that only deeper names mention. */
  constructor(private readonly implied: (path: string, name: string) => I) {}

  /** Adds an item under its parent, implying missing parents; a later entry for a path wins. */
  add(item: I): void {
    const slash = item.path.lastIndexOf('/');
    const parent = slash < 0 ? '' : item.path.slice(0, slash);
    if (parent !== '' && !this.items.has(parent)) this.add(this.implied(parent, parent.slice(parent.lastIndexOf('/') + 1)));
    if (!this.items.has(item.path)) this.dirs.get(parent)?.names.push(item.name);
    this.items.set(item.path, item);
    if (item.type === 'dir' && !this.dirs.has(item.path)) this.dirs.set(item.path, { names: [], sorted: false });
  }

  get(path: string): I | undefined {
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

  /** A directory's child names, `pageSize` at a time, after `last` when given. */
  *pages(dir: string, pageSize: number, last?: string): Generator<NamePage> {
    const names = this.children(dir);
    let start = last === undefined ? 0 : names.indexOf(last) + 1;
    do {
      const page = names.slice(start, start + pageSize);
      start += pageSize;
      yield { names: page, last: start >= names.length };
    } while (start < names.length);
  }
}

/** The path of a child of `dir`. */
export function childPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}
