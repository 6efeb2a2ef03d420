// A SOCI zTOC as a folder tree: each file with the spans its data lies in, which are what opening
// it lazily fetches. Built once per zTOC.
import { cleanEntryName } from '../../core/estargz/toc.js';
import { entrySpans, type SpanTable } from '../../core/soci/spans.js';
import type { Ztoc, ZtocEntry } from '../../core/soci/ztoc.js';
import { FileTree, type FileItem } from './FileTree.js';

export interface ZtocItem extends FileItem {
  /** The entry itself; a directory only implied by its contents has none. */
  entry?: ZtocEntry;
  /** First and last span of the data; none for an empty file or a non-file. */
  spans?: [number, number];
}

export class ZtocTree extends FileTree<ZtocItem> {
  constructor(z: Ztoc, table: SpanTable) {
    super((path, name) => ({ path, name, type: 'dir' }));
    for (const e of z.entries) {
      const path = cleanEntryName(e.name);
      if (path === '') continue; // the root directory's own entry
      const type = e.type === 'dir' || e.type === 'reg' || e.type === 'symlink' || e.type === 'hardlink' ? e.type : 'other';
      const spans = type === 'reg' ? entrySpans(table, e) : undefined;
      this.add({ path, name: path.slice(path.lastIndexOf('/') + 1), type, entry: e, ...(spans ? { spans } : {}) });
    }
  }
}
