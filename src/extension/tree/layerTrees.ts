// Reading the index a layer's file tree comes from: its eStargz TOC (footer and TOC: two range
// reads), or its zTOC from a SOCI index (one blob), checked as the snapshotters check them.
import { readLayerToc, readZtoc, type Stores } from '../../core/jobs/index.js';
import type { TocLayout } from '../../core/estargz/layout.js';
import type { Descriptor, ImageReference } from '../../core/oci/index.js';
import type { SpanTable } from '../../core/soci/spans.js';
import type { Ztoc } from '../../core/soci/ztoc.js';
import { TocTree } from './TocTree.js';
import { ZtocTree } from './ZtocTree.js';

/** An eStargz layer: its image manifest (`ref` by digest) and its place in it. */
export interface TocLayer {
  ref: ImageReference;
  descriptor: Descriptor;
  index: number;
}

export interface LoadedToc {
  tree: TocTree;
  /** Which gzip members hold which chunks: what reading a file fetches. */
  layout: TocLayout;
  /** Why the snapshotter would refuse the layer, when its TOC contradicts its annotation. */
  problem?: string;
}

export async function readTocTree(stores: Stores, { ref, descriptor, index }: TocLayer, log: (line: string) => void): Promise<LoadedToc> {
  const store = await stores.open(ref);
  const toc = await readLayerToc(store, ref.digest ?? ref.tag, String(index + 1));
  log(`Read the eStargz TOC of ${descriptor.digest}: ${toc.toc.entries.length} entries`);
  const mismatch = toc.annotation !== undefined && toc.annotation !== toc.tocDigest;
  return { tree: new TocTree(toc.toc), layout: toc.layout, ...(mismatch ? { problem: `The TOC digest is ${toc.tocDigest}, not ${toc.annotation} as annotated: the snapshotter refuses this layer` } : {}) };
}

/** A layer with a zTOC in a SOCI index. */
export interface ZtocLayer {
  ref: ImageReference;
  layer: Descriptor;
  ztoc: Descriptor;
  /** 1-based, for messages. */
  index: number;
  count: number;
}

export interface LoadedZtoc {
  tree: ZtocTree;
  ztoc: Ztoc;
  spans: SpanTable;
}

export async function readZtocTree(stores: Stores, l: ZtocLayer, log: (line: string) => void): Promise<LoadedZtoc> {
  const store = await stores.open(l.ref);
  const { ztoc, spans } = await readZtoc(store, l.ztoc, l.layer, `${store.name} layer ${l.index}/${l.count}`, {});
  log(`Read the zTOC ${l.ztoc.digest} of layer ${l.layer.digest}: ${ztoc.entries.length} entries, ${spans.spans.length} spans`);
  return { tree: new ZtocTree(ztoc, spans), ztoc, spans };
}
