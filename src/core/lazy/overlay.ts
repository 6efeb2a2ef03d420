// The one implementation of how an image's layers stack into the root filesystem a container
// sees, as overlayfs and the OCI image spec have it. Layers are added from the top down, so a
// lookup can stop at the first layer that decides a path, and a whole listing is the same loop run
// to the base:
// - a later (upper) entry replaces an earlier one, except that a folder a layer only implies (no
//   entry of its own) takes the lower layer's real folder entry;
// - `.wh.<name>` removes `<name>` and its subtree from lower layers, and never shows itself;
// - `.wh..wh..opq` hides a folder's lower children (the folder stays);
// - a non-folder hides the lower subtree of its path;
// - eStargz's landmark files are the converter's, not the image's: stargz-snapshotter hides them.
import { NO_PREFETCH_LANDMARK, PREFETCH_LANDMARK } from '../estargz/index.js';
import type { LayerLaziness } from '../image/index.js';
import type { LayerEntry, LayerFiles } from './layer.js';
import { OPAQUE_WHITEOUT as OPAQUE, WHITEOUT_PREFIX as WHITEOUT } from '../tar/index.js';

const REMOVED = Symbol('whited out');

export interface MergedEntry extends LayerEntry {
  /** 1-based index of the layer the entry comes from (0 for the root folder, which no layer lists). */
  layer: number;
  /** Set when the layer lists the entry as a hard link: the target's path. It is listed as that file. */
  hardlink?: string;
}

/** Where a merged entry's bytes live: its layer's own entry, in that layer's reader. */
export interface Source {
  layer: LayerLaziness;
  files: LayerFiles;
  entry: LayerEntry;
}

export class Overlay {
  private readonly slots = new Map<string, MergedEntry | typeof REMOVED>();
  /** Paths whose descendants in the layers not yet added are hidden. */
  private readonly closed = new Set<string>();
  private readonly sources = new Map<MergedEntry, Source>();

  /** Adds a layer under the layers added so far. */
  addLower(layer: LayerLaziness, files: LayerFiles): void {
    const hidden = new Map<string, boolean>();
    /** Whether a folder or one above it is closed by an upper layer: memoized, as `closed` only grows after this loop. */
    const isHidden = (dir: string): boolean => {
      if (dir === '') return false;
      let h = hidden.get(dir);
      if (h === undefined) hidden.set(dir, (h = this.closed.has(dir) || isHidden(parentOf(dir))));
      return h;
    };
    const markers: LayerEntry[] = [];
    for (const entry of files.entries()) {
      if (files.via === 'estargz' && (entry.path === PREFETCH_LANDMARK || entry.path === NO_PREFETCH_LANDMARK)) continue;
      const dir = parentOf(entry.path);
      if (nameOf(entry.path).startsWith(WHITEOUT)) {
        markers.push(entry);
        continue;
      }
      if (isHidden(dir)) continue;
      const above = this.slots.get(entry.path);
      if (above === undefined || (above !== REMOVED && above.implied && !entry.implied && entry.type === 'dir')) {
        const merged: MergedEntry = { ...entry, layer: layer.index };
        this.slots.set(entry.path, merged);
        this.sources.set(merged, { layer, files, entry });
      }
    }
    // What this layer hides applies to the layers under it only.
    for (const marker of markers) {
      const dir = parentOf(marker.path);
      const name = nameOf(marker.path);
      if (name === OPAQUE) {
        this.closed.add(dir);
        continue;
      }
      const path = join(dir, name.slice(WHITEOUT.length));
      if (!this.slots.has(path) && !isHidden(dir)) this.slots.set(path, REMOVED);
      this.closed.add(path);
    }
    for (const entry of files.entries()) if (entry.type !== 'dir') this.closed.add(entry.path);
  }

  /**
   * What the layers added so far say is at a clean path: its entry, `null` when they hide it (from
   * every lower layer too), or undefined when only lower layers can tell.
   */
  get(path: string): MergedEntry | null | undefined {
    const slot = this.slots.get(path);
    if (slot !== undefined) return slot === REMOVED ? null : slot;
    for (let dir = parentOf(path); dir !== ''; dir = parentOf(dir)) if (this.closed.has(dir)) return null;
    return undefined;
  }

  /** Every entry left visible, in no order (a broken layer may leave some under a non-folder). */
  *visible(): Iterable<MergedEntry> {
    for (const slot of this.slots.values()) if (slot !== REMOVED) yield slot;
  }

  source(entry: MergedEntry): Source | undefined {
    return this.sources.get(entry);
  }

  /** Records that `entry` reads its bytes from `source` (a hard link from its target). */
  setSource(entry: MergedEntry, source: Source): void {
    this.sources.set(entry, source);
  }
}

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function nameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function join(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}
