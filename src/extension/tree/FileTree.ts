// A layer's files as folders: each folder's children sorted directories first, then by name, and
// handed out in pages, as registry listings are. Plain data, no vscode.
import type { LayerEntry, LayerFiles } from '../../core/lazy/index.js';
import type { NamePage } from '../../core/oci/index.js';

export class FileTree {
  /** Child names per folder path, sorted once on first use. */
  private readonly dirs = new Map<string, { names: string[]; sorted: boolean }>([['', { names: [], sorted: false }]]);

  constructor(private readonly files: LayerFiles) {
    for (const entry of files.entries()) {
      const slash = entry.path.lastIndexOf('/');
      const parent = slash < 0 ? '' : entry.path.slice(0, slash);
      this.folder(parent).names.push(entry.path.slice(slash + 1));
      if (entry.type === 'dir') this.folder(entry.path);
    }
  }

  get(path: string): LayerEntry | undefined {
    return this.files.entry(path);
  }

  /** A folder's child names: folders first, then by name. */
  children(path: string): string[] {
    const dir = this.dirs.get(path);
    if (!dir) return [];
    if (!dir.sorted) {
      const isDir = (name: string): boolean => this.files.entry(childPath(path, name))?.type === 'dir';
      dir.names.sort((a, b) => Number(isDir(b)) - Number(isDir(a)) || (a < b ? -1 : a > b ? 1 : 0));
      dir.sorted = true;
    }
    return dir.names;
  }

  /** A folder's child names, `pageSize` at a time, after `last` when given. */
  *pages(dir: string, pageSize: number, last?: string): Generator<NamePage> {
    const names = this.children(dir);
    let start = last === undefined ? 0 : names.indexOf(last) + 1;
    do {
      const page = names.slice(start, start + pageSize);
      start += pageSize;
      yield { names: page, last: start >= names.length };
    } while (start < names.length);
  }

  private folder(path: string): { names: string[]; sorted: boolean } {
    let dir = this.dirs.get(path);
    if (!dir) {
      dir = { names: [], sorted: false };
      this.dirs.set(path, dir);
    }
    return dir;
  }
}

/** The path of a child of `dir`. */
export function childPath(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}
