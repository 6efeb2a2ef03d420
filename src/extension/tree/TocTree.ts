// An eStargz TOC as a folder tree: files with their chunk counts, links with their targets, and
// which files sit before the prefetch landmark. Built once per layer.
import { cleanEntryName, PREFETCH_LANDMARK, type Toc, type TocEntry } from '../../core/estargz/toc.js';
import { FileTree, type FileItem } from './FileTree.js';

export interface TocItem extends FileItem {
  /** The entry itself; a directory only implied by its contents has none. */
  entry?: TocEntry;
  /** Separately fetched pieces of a regular file's data (0 for an empty file). */
  chunks: number;
  /** Before `.prefetch.landmark`: fetched in one range before the container starts. */
  prefetched: boolean;
}

export class TocTree extends FileTree<TocItem> {
  constructor(toc: Toc) {
    super((path, name) => ({ path, name, type: 'dir', chunks: 0, prefetched: false }));
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
}
