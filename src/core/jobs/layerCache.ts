// What the convert and index jobs ask of a layer cache (the batch engine's is store-backed): before
// building a layer, whether its result exists already, then in the destination; after building
// and storing one, to remember it. A cache that cannot trust what it holds answers "none".
import type { CallOptions, Descriptor, ImageStore } from '../oci/index.js';

/** The options that change a converted layer's bytes, defaults filled in. */
export interface EstargzKey {
  level: number;
  chunkSize: number;
  prioritized: string[];
}

export interface CachedEstargz {
  digest: string;
  size: number;
  diffId: string;
  tocDigest: string;
  uncompressedSize: number;
  /** Prioritized paths the source layer did not have. */
  missing: string[];
}

export interface ConvertedLayerCache {
  /** A converted layer for `source`, now stored in `destination`; undefined when there is none to trust. */
  reuse(source: Descriptor, key: EstargzKey, destination: ImageStore, options: CallOptions): Promise<CachedEstargz | undefined>;
  /** Remembers a layer just built and stored in `destination`. */
  record(source: Descriptor, key: EstargzKey, destination: ImageStore, built: CachedEstargz & { seconds: number }, options: CallOptions): Promise<void>;
}

export interface CachedZtoc {
  digest: string;
  size: number;
  spans: number;
  files: number;
  /** The zTOC itself, when asked for (prefetch files are planned from it). */
  bytes?: Buffer;
}

export interface ZtocCache {
  /** A zTOC of `layer` at `spanSize`, now stored in `destination`; undefined when there is none to trust. */
  reuse(layer: Descriptor, spanSize: number, destination: ImageStore, options: CallOptions & { bytes?: boolean }): Promise<CachedZtoc | undefined>;
  /** Remembers a zTOC just built and stored. */
  record(layer: Descriptor, spanSize: number, built: CachedZtoc & { bytes: Buffer; seconds: number }, options: CallOptions): Promise<void>;
}
