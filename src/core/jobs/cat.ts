// `cat`: one file of an image, read the way a lazy snapshotter reads it: through a layer's SOCI
// spans or eStargz chunks where it has them, whole where it has neither. The path is looked up in
// the image's merged root (what the container sees), or in one layer's own files. Every byte
// fetched is counted: manifests, indexes, TOCs or zTOCs, and the file's spans, chunks or layers.
import { laziness, resolveImage, selectLayer, type LayerLaziness } from '../image/index.js';
import { ImageFiles, layerWhere, openLayerFiles } from '../lazy/index.js';
import type { ImageStore, ManifestDocument, Platform } from '../oci/index.js';

export interface CatResult {
  /** Bytes written. */
  length: number;
  /** The path read, after following symbolic links. */
  path: string;
  layer: LayerLaziness;
  via: 'soci' | 'estargz' | 'whole layer';
  /** Span ids (SOCI) fetched for the file. */
  spans?: number[];
  /** Every byte fetched from the store. */
  fetched: number;
}

/** Writes the file's bytes to `write` as they come (awaiting each), so a file of any size streams. */
export async function catFile(source: ImageStore, tagOrDigest: string | undefined, path: string, write: (chunk: Buffer) => Promise<void>, options: CatOptions = {}): Promise<CatResult> {
  const meter = { bytes: 0 };
  const store = metered(source, meter);
  const call = { signal: options.signal };
  const { root, image } = await resolveImage(store, tagOrDigest, 'Cannot read a file of', options);
  const lazy = await laziness(store, image, { root, signal: options.signal });
  if (options.layer === undefined) {
    const copied = await new ImageFiles(store, lazy, store.name, call).copy(path, write);
    return { length: copied.length, path: copied.path, layer: copied.layer, via: copied.how, spans: copied.spans, fetched: meter.bytes };
  }
  const layer = lazy.layers[selectLayer(image, options.layer, store.name).index - 1]!;
  const { files } = await openLayerFiles(store, layer, layerWhere(store.name, lazy, layer), call);
  const entry = await files.resolve(path);
  const copied = await files.copyEntry(entry, write, call);
  return { length: copied.length, path: entry.path, layer, via: files.via, spans: copied.spans, fetched: meter.bytes };
}

export interface CatOptions {
  platform?: Platform;
  signal?: AbortSignal;
  /** Read from this layer's own files (a 1-based number or a digest), not the merged root. */
  layer?: string;
}

/** The store, counting the bytes of every manifest, blob and range read through it. */
function metered(store: ImageStore, meter: { bytes: number }): ImageStore {
  const wrapped = Object.create(store) as ImageStore;
  wrapped.getManifest = async (d, o) => {
    const doc: ManifestDocument = await store.getManifest(d, o);
    meter.bytes += doc.bytes.length;
    return doc;
  };
  wrapped.readBlobRange = async (d, offset, length, o) => {
    const b = await store.readBlobRange(d, offset, length, o);
    meter.bytes += b.length;
    return b;
  };
  wrapped.getBlob = async (d, o) => {
    const s = await store.getBlob(d, o);
    s.on('data', (c: Buffer) => (meter.bytes += c.length));
    return s;
  };
  return wrapped;
}
