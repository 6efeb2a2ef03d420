// A layer's files, listed and read without unpacking the layer. A lazy layer lists them from its
// index (an eStargz TOC, a SOCI zTOC) and reads a file by fetching only the gzip members or spans
// that hold it, as a remote snapshotter does on first access.
import type { CallOptions, Descriptor } from '../oci/index.js';

export type EntryType = 'dir' | 'reg' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface LayerEntry {
  /** Clean path from the layer's root: `usr/bin/env` (no leading slash, no `.` or `..`). */
  path: string;
  type: EntryType;
  /** Bytes of a regular file's data; 0 for the rest. */
  size: number;
  /** Permission bits and the like, as the tar header has them. */
  mode: number;
  uid: number;
  gid: number;
  /** RFC 3339, when the index records it. */
  modTime?: string;
  /** Target of a symbolic or hard link, as written; '' for the rest. */
  linkname: string;
  /** eStargz: the gzip members that hold the file's data (one per chunk). */
  chunks?: number;
  /** eStargz: placed before `.prefetch.landmark`, so fetched before the container starts. */
  prefetched?: boolean;
  /** SOCI: the first and last span holding the data (none for an empty file). */
  spans?: [number, number];
  /** SOCI: where the data starts in the uncompressed tar. */
  tarOffset?: number;
  /** eStargz: the whole file's digest, when the TOC has it. */
  digest?: string;
  /** A folder no entry lists, only deeper names mention. */
  implied?: boolean;
}

export interface ReadRange {
  offset: number;
  length: number;
}

export interface LayerRead {
  bytes: Buffer;
  /** Compressed bytes fetched from the store for this read. */
  fetched: number;
  /** What was fetched, for people: `SOCI span 3`, `2 eStargz chunks`, `the whole layer`. */
  via: string;
  /** SOCI: the spans fetched. */
  spans?: number[];
}

/** What copying a file out of a layer did: a read whose bytes went to the caller as they came. */
export interface LayerCopy extends Omit<LayerRead, 'bytes'> {
  /** Bytes handed over. */
  length: number;
}

/** What a whole verification of a lazy layer's data found: every chunk or span against its digest. */
export interface ContentCheck {
  checked: number;
  problems: string[];
}

export interface LayerFiles {
  readonly descriptor: Descriptor;
  /** How reads fetch: through the layer's eStargz TOC, its SOCI zTOC, or by reading it whole. */
  readonly via: 'estargz' | 'soci' | 'whole layer';
  /** Every entry, in the layer's order; a path listed twice is given once, as its later entry. */
  entries(): Iterable<LayerEntry>;
  /** The entry at a clean path, as listed (links not followed). */
  entry(path: string): LayerEntry | undefined;
  /** The entry a path leads to inside this layer: symbolic links in any component, then a hard link. */
  resolve(path: string): Promise<LayerEntry>;
  /**
   * A regular file's bytes (or a range of them), after resolving `path`; only what holds them is
   * fetched. Held in memory, so at most MAX_FILE_BYTES.
   */
  read(path: string, range?: ReadRange, options?: CallOptions): Promise<LayerRead>;
  /** A regular file's bytes, after resolving `path`, handed to `write` in order: never held whole, so of any size. */
  copy(path: string, write: (chunk: Buffer) => Promise<void>, options?: CallOptions): Promise<LayerCopy>;
  /** As `read`, of one of this layer's regular file entries (already resolved, e.g. through an image's layers). */
  readEntry(entry: LayerEntry, range?: ReadRange, options?: CallOptions): Promise<LayerRead>;
  /** As `copy`, of one of this layer's regular file entries. */
  copyEntry(entry: LayerEntry, write: (chunk: Buffer) => Promise<void>, options?: CallOptions): Promise<LayerCopy>;
}

/** A layer a remote snapshotter mounts lazily: its files come from its index. */
export interface LazyLayer extends LayerFiles {
  readonly via: 'estargz' | 'soci';
  /** Bytes fetched to open it: the footer and TOC, or the zTOC. */
  readonly indexBytes: number;
  /** What its index says, in a line: counts, span size, the tool that built it. */
  readonly summary: string;
  /** What the snapshotter would object to when mounting it, as far as opening it shows. */
  readonly problems: string[];
  /** Fetches every chunk or span and checks it against its digest, as the snapshotter does on read. */
  verify(options?: CallOptions & { onProgress?: (done: number, total: number) => void }): Promise<ContentCheck>;
}
