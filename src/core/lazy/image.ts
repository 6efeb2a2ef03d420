// An image's files as its container sees them, without unpacking it: the layers stack through the
// overlay (whiteouts, opaque folders) and symbolic links resolve across layers, inside the image.
// Layers are opened (their TOC or zTOC read, or a layer that has neither read whole) from the top
// down, only as far as a lookup needs.
import { LazyImageError } from '../errors.js';
import type { ImageLaziness, LayerLaziness } from '../image/index.js';
import type { CallOptions, ImageStore } from '../oci/index.js';
import { followLinks } from '../tar/index.js';
import type { LayerCopy, LayerFiles, LayerRead, ReadRange } from './layer.js';
import { hardLinkTarget } from './listed.js';
import { openLayerFiles } from './open.js';
import { Overlay, type MergedEntry, type Source } from './overlay.js';

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
  protected readonly overlay = new Overlay();
  /** Positions in `image.layers` of the layers not added to the overlay yet, top first. */
  protected pending: number[];
  private opening: Promise<void> | undefined;
  /** Bytes fetched to open layers (TOCs, zTOCs, whole layers). */
  fetched = 0;
  /** Compressed bytes fetched reading files, by layer index. */
  protected readonly readBytes = new Map<number, number>();

  constructor(protected readonly store: ImageStore, readonly image: ImageLaziness, protected readonly where: string, protected readonly options: CallOptions = {}) {
    this.pending = image.layers.map((_, i) => i).reverse();
  }

  /** A regular file's bytes (or a range), after links; only what holds them is fetched. */
  async read(path: string, range?: ReadRange, options: CallOptions = this.options): Promise<ImageRead> {
    const { resolved, source } = await this.locate(path);
    const read = await source.files.readEntry(source.entry, range, options);
    this.count(source.layer, read.fetched);
    return { ...read, path: resolved, layer: source.layer, how: source.files.via };
  }

  /** A regular file's bytes, after links, handed to `write` as they come: of any size, never held whole. */
  async copy(path: string, write: (chunk: Buffer) => Promise<void>, options: CallOptions = this.options): Promise<ImageCopy> {
    const { resolved, source } = await this.locate(path);
    const copied = await source.files.copyEntry(source.entry, write, options);
    this.count(source.layer, copied.fetched);
    return { ...copied, path: resolved, layer: source.layer, how: source.files.via };
  }

  /** What the container sees at a clean path, opening lower layers until one decides. */
  protected async lookup(path: string): Promise<MergedEntry | undefined> {
    for (;;) {
      const found = this.overlay.get(path);
      if (found !== undefined || !this.pending.length) return found ?? undefined;
      this.opening ??= this.addNext().finally(() => (this.opening = undefined));
      await this.opening;
    }
  }

  /** Why a path may be missing beyond what the listed layers say: '' when they are all listed. */
  protected unlisted(): string {
    return '';
  }

  /** The layer entry holding a path's bytes, after symbolic links (inside the image) and a hard link (inside its layer). */
  private async locate(path: string): Promise<{ resolved: string; source: Source }> {
    const { path: resolved, entry } = await followLinks(path, (p) => this.lookup(p), this.where);
    if (!entry) throw new LazyImageError('NOT_FOUND', `${this.where} has no file /${resolved}${resolved !== path.replace(/^\/+/, '') ? ` (from ${path})` : ''}${this.unlisted()}`, { ref: this.where });
    const source = this.overlay.source(entry);
    if (!source) throw new LazyImageError('INVALID_ARGUMENT', `${this.where}: /${resolved} is the root folder, not a file`, { ref: this.where });
    return entry.type === 'hardlink' ? { resolved, source: { ...source, entry: hardLinkTarget(source.files, source.entry, layerWhere(this.where, this.image, source.layer)) } } : { resolved, source };
  }

  private count(layer: LayerLaziness, fetched: number): void {
    this.readBytes.set(layer.index, (this.readBytes.get(layer.index) ?? 0) + fetched);
  }

  private async addNext(): Promise<void> {
    const layer = this.image.layers[this.pending[0]!]!;
    const { files, fetched } = await openLayerFiles(this.store, layer, layerWhere(this.where, this.image, layer), this.options);
    this.fetched += fetched;
    this.overlay.addLower(layer, files);
    this.pending.shift();
  }
}

/** A layer in messages: `oci:/x:v1 layer 2/3 (sha256:…)`. */
export function layerWhere(where: string, image: ImageLaziness, layer: LayerLaziness): string {
  return `${where} layer ${layer.index}/${image.layers.length} (${layer.descriptor.digest})`;
}
