// Layer file trees for the view (eStargz TOCs, SOCI zTOCs), read when a node expands and kept for
// the few looked at last, since a large layer's index holds tens of thousands of entries. A
// directory's children are handed out in pages, as registry listings are.
import type { NamePage } from '../../core/oci/index.js';
import type { FileItem, FileTree } from './FileTree.js';

const KEEP = 4;

export class TreeCache<L, V extends { tree: FileTree<FileItem> }> {
  private readonly loaded = new Map<string, Promise<V>>();

  constructor(private readonly key: (layer: L) => string, private readonly read: (layer: L) => Promise<V>) {}

  load(layer: L): Promise<V> {
    const key = this.key(layer);
    let value = this.loaded.get(key);
    if (value) {
      this.loaded.delete(key); // most recently used goes last
    } else {
      value = this.read(layer);
      value.catch(() => this.loaded.delete(key));
    }
    this.loaded.set(key, value);
    for (const old of [...this.loaded.keys()].slice(0, -KEEP)) this.loaded.delete(old);
    return value;
  }

  /** A directory's child names, `pageSize` at a time, after `last` when given. */
  async *pages(layer: L, dir: string, pageSize: number, last?: string): AsyncGenerator<NamePage> {
    yield* (await this.load(layer)).tree.pages(dir, pageSize, last);
  }
}
