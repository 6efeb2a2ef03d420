// An image's whole root filesystem as its container sees it, listed from every lazy layer's index
// (eStargz TOC, SOCI zTOC) at open and never from file content: a folder tree to browse, find in
// and read from, fetching only the chunks or spans of the files read. A layer without an index is
// not read whole: it is a gap the caller can name (and offer to convert or index).
import { describeError, LazyImageError } from '../errors.js';
import { isContentProblem, type ImageLaziness } from '../image/index.js';
import { forEachLimit } from '../pool.js';
import type { CallOptions, ImageStore } from '../oci/index.js';
import { cleanEntryName } from '../tar/index.js';
import { globMatcher } from './glob.js';
import { ImageFiles, layerWhere } from './image.js';
import type { LazyLayer } from './layer.js';
import { findHardLinkTarget } from './listed.js';
import { lazyIndex, openLazyLayer } from './open.js';
import { parentOf, type MergedEntry } from './overlay.js';

export type { MergedEntry } from './overlay.js';

export interface LayerGap {
  index: number;
  digest: string;
  /** Why it has no listing: not lazy, or the error opening its index (which names the layer). */
  reason: string;
  /** Its index is there but could not be opened. */
  broken: boolean;
}

export interface LayerCost {
  index: number;
  digest: string;
  size: number;
  via: 'estargz' | 'soci' | undefined;
  /** Compressed bytes fetched from the store so far: index + reads. */
  fetched: number;
}

/** Layer indexes fetched at once. */
const OPEN_LIMIT = 4;
const ROOT: MergedEntry = { path: '', type: 'dir', size: 0, mode: 0o755, uid: 0, gid: 0, linkname: '', implied: true, layer: 0 };

export class MergedTree extends ImageFiles {
  readonly gaps: LayerGap[] = [];
  private readonly lazy = new Map<number, LazyLayer>();
  /** Every visible path (the root first, then sorted), and each folder's children sorted by name. */
  private readonly byPath = new Map<string, MergedEntry>([['', ROOT]]);
  private readonly children = new Map<string, MergedEntry[]>([['', []]]);

  private constructor(store: ImageStore, image: ImageLaziness, where: string, options: CallOptions) {
    super(store, image, where, options);
    this.pending = [];
  }

  /** Opens every lazy layer's index (in parallel) and merges the listings. */
  static async open(store: ImageStore, image: ImageLaziness, where: string, options: CallOptions = {}): Promise<MergedTree> {
    const tree = new MergedTree(store, image, where, options);
    const opened: Array<{ files: LazyLayer } | { gap: LayerGap }> = [];
    await forEachLimit(image.layers, OPEN_LIMIT, async (layer, i) => {
      const gap = (reason: string, broken: boolean): { gap: LayerGap } => ({ gap: { index: layer.index, digest: layer.descriptor.digest, reason, broken } });
      const index = lazyIndex(layer);
      if (!index) {
        opened[i] = gap(`not lazy (${layer.reason ?? 'no eStargz TOC, no SOCI zTOC'})`, false);
        return;
      }
      try {
        opened[i] = { files: await openLazyLayer(store, layer.descriptor, index, layerWhere(where, image, layer), options) };
      } catch (e) {
        if (!isContentProblem(e)) throw e;
        opened[i] = gap(describeError(e), true);
      }
    });
    for (let i = image.layers.length - 1; i >= 0; i--) {
      const o = opened[i]!;
      if ('gap' in o) continue;
      tree.lazy.set(image.layers[i]!.index, o.files);
      tree.fetched += o.files.indexBytes;
      tree.overlay.addLower(image.layers[i]!, o.files);
    }
    tree.gaps.push(...opened.flatMap((o) => ('gap' in o ? [o.gap] : [])));
    tree.index();
    return tree;
  }

  /** Each layer's size, how it is listed, and the bytes fetched from it so far. */
  costs(): LayerCost[] {
    return this.image.layers.map((l) => {
      const files = this.lazy.get(l.index);
      return { index: l.index, digest: l.descriptor.digest, size: l.descriptor.size, via: files?.via, fetched: (files?.indexBytes ?? 0) + (this.readBytes.get(l.index) ?? 0) };
    });
  }

  /** The entry at a path (links not followed); '' is the root folder. */
  stat(path: string): MergedEntry | undefined {
    return this.byPath.get(cleanEntryName(path));
  }

  /** A folder's children, sorted by name. */
  list(path: string): MergedEntry[] {
    const clean = cleanEntryName(path);
    const entry = this.byPath.get(clean);
    if (!entry) throw new LazyImageError('NOT_FOUND', `${this.where} has no /${clean}${this.unlisted()}`, { ref: this.where });
    if (entry.type !== 'dir') throw new LazyImageError('INVALID_ARGUMENT', `${this.where}: /${clean} is not a directory`, { ref: this.where });
    return [...this.children.get(clean)!];
  }

  /** Every entry but the root, sorted by path. */
  *entries(): Iterable<MergedEntry> {
    for (const entry of this.byPath.values()) if (entry !== ROOT) yield entry;
  }

  /** The entries whose name (or, for a glob with a slash, whose path) matches, sorted by path. */
  find(glob: string, limit = Infinity): MergedEntry[] {
    const matches = globMatcher(glob);
    const found: MergedEntry[] = [];
    for (const entry of this.entries()) {
      if (found.length >= limit) break;
      if (matches(entry.path)) found.push(entry);
    }
    return found;
  }

  protected override lookup(path: string): Promise<MergedEntry | undefined> {
    return Promise.resolve(this.byPath.get(path));
  }

  protected override unlisted(): string {
    return this.gaps.length ? ` (not listed: ${this.gaps.map((g) => `layer ${g.index}`).join(', ')})` : '';
  }

  /**
   * The tree, from the overlay: sorted paths put each folder before its children; an entry under a
   * non-folder (only a broken layer has one) is left out; a hard link becomes its target file.
   */
  private index(): void {
    const visible = [...this.overlay.visible()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const found of visible) {
      const siblings = this.children.get(parentOf(found.path));
      if (!siblings) continue;
      const entry = found.type === 'hardlink' ? this.linked(found) : found;
      siblings.push(entry);
      this.byPath.set(entry.path, entry);
      if (entry.type === 'dir') this.children.set(entry.path, []);
    }
  }

  /** A hard link as the file it names in its layer; left a hard link (which reading refuses, saying why) when it names none. */
  private linked(link: MergedEntry): MergedEntry {
    const source = this.overlay.source(link)!;
    const target = findHardLinkTarget(source.files, source.entry);
    if (!target) return link;
    const entry: MergedEntry = { ...target, path: link.path, layer: link.layer, hardlink: target.path };
    this.overlay.setSource(entry, { ...source, entry: target });
    return entry;
  }
}
