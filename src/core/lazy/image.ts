// An image's files as its container sees them, without unpacking it: a path is looked up from the
// top layer down, where whiteouts (`.wh.<name>`) and opaque folders (`.wh..wh..opq`) hide lower
// layers, and symbolic links resolve across layers. Layers are opened (their TOC or zTOC read)
// only when a lookup reaches them.
import { LazyImageError, throwIfAborted } from '../errors.js';
import type { ImageLaziness, LayerLaziness } from '../image/index.js';
import type { CallOptions, ImageStore } from '../oci/index.js';
import { followLinks } from '../tar/index.js';
import type { LayerCopy, LayerEntry, LayerFiles, LayerRead, ReadRange } from './layer.js';
import { openLayerFiles } from './open.js';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

interface Found {
  type: string;
  linkname: string;
  entry: LayerEntry;
  layer: LayerLaziness;
  files: LayerFiles;
}

export interface ImageRead extends LayerRead {
  /** The path read, after following links. */
  path: string;
  /** The layer the file came from, and how its files were read. */
  layer: LayerLaziness;
  how: LayerFiles['via'];
}

export interface ImageCopy extends LayerCopy {
  path: string;
  layer: LayerLaziness;
  how: LayerFiles['via'];
}

export class ImageFiles {
  private readonly opened = new Map<number, Promise<LayerFiles>>();
  /** Bytes fetched to open layers (TOCs, zTOCs, whole layers). */
  fetched = 0;

  constructor(private readonly store: ImageStore, private readonly image: ImageLaziness, private readonly where: string, private readonly options: CallOptions = {}) {}

  /** A regular file's bytes (or a range), after links; only what holds them is fetched. */
  async read(path: string, range?: ReadRange): Promise<ImageRead> {
    const { resolved, found } = await this.find(path);
    const read = await found.files.read(resolved, range, this.options);
    return { ...read, path: resolved, layer: found.layer, how: found.files.via };
  }

  /** A regular file's bytes, after links, handed to `write` as they come: of any size, never held whole. */
  async copy(path: string, write: (chunk: Buffer) => Promise<void>): Promise<ImageCopy> {
    const { resolved, found } = await this.find(path);
    const copied = await found.files.copy(resolved, write, this.options);
    return { ...copied, path: resolved, layer: found.layer, how: found.files.via };
  }

  /** The layer entry a path leads to, after links. */
  private async find(path: string): Promise<{ resolved: string; found: Found }> {
    const { path: resolved, entry: found } = await followLinks(path, (p) => this.lookup(p), this.where);
    if (!found) throw new LazyImageError('NOT_FOUND', `${this.where} has no file /${resolved}${resolved !== path.replace(/^\/+/, '') ? ` (from ${path})` : ''}`, { ref: this.where });
    // A hard link names a file of its own layer: the layer resolves it.
    return { resolved, found };
  }

  /** What the container sees at a clean path: the topmost layer's entry, unless a layer above hides it. */
  async lookup(path: string): Promise<Found | undefined> {
    const parts = path.split('/');
    for (let i = this.image.layers.length - 1; i >= 0; i--) {
      throwIfAborted(this.options.signal, this.where);
      const layer = this.image.layers[i]!;
      const files = await this.files(i);
      const entry = files.entry(path);
      if (entry) return { type: entry.type, linkname: entry.linkname, entry, layer, files };
      for (let k = 1; k <= parts.length; k++) {
        const dir = parts.slice(0, k - 1).join('/');
        const prefix = dir ? `${dir}/` : '';
        if (files.entry(`${prefix}${WHITEOUT}${parts[k - 1]}`)) return undefined;
        if (k === parts.length) break;
        const above = files.entry(`${prefix}${parts[k - 1]}`);
        // A file (not a folder) here, or an opaque folder, hides everything below it in lower layers.
        if ((above && above.type !== 'dir') || files.entry(`${prefix}${parts[k - 1]}/${OPAQUE}`)) return undefined;
      }
    }
    return undefined;
  }

  private files(i: number): Promise<LayerFiles> {
    let files = this.opened.get(i);
    if (!files) {
      const layer = this.image.layers[i]!;
      files = openLayerFiles(this.store, layer, `${this.where} layer ${layer.index}/${this.image.layers.length} (${layer.descriptor.digest})`, this.options).then((o) => {
        this.fetched += o.fetched;
        return o.files;
      });
      this.opened.set(i, files);
    }
    return files;
  }
}
