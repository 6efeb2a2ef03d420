// Lazy layers for the view, opened when a node expands and kept for the few looked at last, since
// a large layer's index holds tens of thousands of entries. A folder's children are handed out in
// pages, as registry listings are.
import type { NamePage } from '../../core/oci/index.js';
import { sourceKey, type LayerSource, type LoadedLayer } from './layerTrees.js';

const KEEP = 4;

export class TreeCache {
  private readonly loaded = new Map<string, Promise<LoadedLayer>>();

  constructor(private readonly read: (layer: LayerSource) => Promise<LoadedLayer>) {}

  load(layer: LayerSource): Promise<LoadedLayer> {
    const key = sourceKey(layer);
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

  /** A folder's child names, `pageSize` at a time, after `last` when given. */
  async *pages(layer: LayerSource, dir: string, pageSize: number, last?: string): AsyncGenerator<NamePage> {
    yield* (await this.load(layer)).tree.pages(dir, pageSize, last);
  }
}
