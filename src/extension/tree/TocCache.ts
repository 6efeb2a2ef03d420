// eStargz TOCs for the tree, read when a layer expands (footer and TOC: two Range reads) and kept
// for the few layers looked at last, since a large layer's TOC holds tens of thousands of entries.
// A directory's children are handed out in pages, as registry listings are.
import { readLayerToc, type Stores } from '../../core/jobs/index.js';
import type { Descriptor, ImageReference, NamePage } from '../../core/oci/index.js';
import { TocTree } from './TocTree.js';

const KEEP = 4;

export interface LoadedToc {
  tree: TocTree;
  /** Why the snapshotter would refuse the layer, when its TOC contradicts its annotation. */
  problem?: string;
}

/** The layer a TOC belongs to: its image manifest (`ref` by digest) and its place in it. */
export interface TocLayer {
  ref: ImageReference;
  descriptor: Descriptor;
  index: number;
}

export class TocCache {
  private readonly loaded = new Map<string, Promise<LoadedToc>>();

  constructor(private readonly stores: () => Stores, private readonly log: (line: string) => void) {}

  load(layer: TocLayer): Promise<LoadedToc> {
    const key = layer.descriptor.digest;
    let toc = this.loaded.get(key);
    if (toc) {
      this.loaded.delete(key); // most recently used goes last
    } else {
      toc = this.read(layer);
      toc.catch(() => this.loaded.delete(key));
    }
    this.loaded.set(key, toc);
    for (const old of [...this.loaded.keys()].slice(0, -KEEP)) this.loaded.delete(old);
    return toc;
  }

  private async read({ ref, descriptor, index }: TocLayer): Promise<LoadedToc> {
    const store = await this.stores().open(ref);
    const toc = await readLayerToc(store, ref.digest ?? ref.tag, String(index + 1));
    this.log(`Read the eStargz TOC of ${descriptor.digest}: ${toc.toc.entries.length} entries`);
    const mismatch = toc.annotation !== undefined && toc.annotation !== toc.tocDigest;
    return { tree: new TocTree(toc.toc), ...(mismatch ? { problem: `The TOC digest is ${toc.tocDigest}, not ${toc.annotation} as annotated: the snapshotter refuses this layer` } : {}) };
  }

  /** A directory's child names, `pageSize` at a time, after `last` when given. */
  async *pages(layer: TocLayer, dir: string, pageSize: number, last?: string): AsyncGenerator<NamePage> {
    const names = (await this.load(layer)).tree.children(dir);
    let start = last === undefined ? 0 : names.indexOf(last) + 1;
    do {
      const page = names.slice(start, start + pageSize);
      start += pageSize;
      yield { names: page, last: start >= names.length };
    } while (start < names.length);
  }
}
