// The lazy layers the view shows as folders, opened through their index (an eStargz TOC: two range
// reads; a SOCI zTOC: one blob) when a node first expands, and shared with Open File (lazy).
import { openLazyLayer, type LazyIndex, type LazyLayer } from '../../core/lazy/index.js';
import { formatReference, type Descriptor, type ImageReference } from '../../core/oci/index.js';
import type { Stores } from '../../core/image/index.js';
import { FileTree } from './FileTree.js';

/** A layer of an image manifest (`ref` by digest), and the index its files come from. */
export interface LayerSource {
  ref: ImageReference;
  layer: Descriptor;
  /** 1-based, for messages. */
  index: number;
  count: number;
  lazy: LazyIndex;
}

export interface LoadedLayer {
  layer: LazyLayer;
  tree: FileTree;
}

/** One key per layer and index: a layer can have a TOC and zTOCs in several SOCI indexes. */
export function sourceKey(s: LayerSource): string {
  return `${s.layer.digest}:${s.lazy.via === 'soci' ? s.lazy.ztoc.digest : 'toc'}`;
}

export function sourceName(s: LayerSource): string {
  return `${formatReference(s.ref)} layer ${s.index}/${s.count}`;
}

export async function loadLayer(stores: Stores, s: LayerSource, log: (line: string) => void): Promise<LoadedLayer> {
  const layer = await openLazyLayer(await stores.open(s.ref), s.layer, s.lazy, sourceName(s));
  log(`Read the ${s.lazy.via === 'soci' ? `zTOC ${s.lazy.ztoc.digest}` : 'eStargz TOC'} of ${s.layer.digest}: ${layer.summary}`);
  return { layer, tree: new FileTree(layer) };
}
