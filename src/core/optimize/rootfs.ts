// An image's root filesystem unpacked into a folder, its layers applied from the base up, and which
// layer each path comes from: the topmost layer that lists it (a path the merged tree shows is
// listed by the layer that put it there, and by no higher one, or that one would have won).
import { mkdir } from 'node:fs/promises';
import type { CallOptions, Descriptor, ImageStore } from '../oci/index.js';
import { cleanEntryName } from '../tar/index.js';
import { applyLayer } from './apply.js';

export interface UnpackOptions extends CallOptions {
  /** Give files the layers' owners (default: when running as root, the only one who may). */
  owners?: boolean;
  /** Compressed bytes read from layer `index` (1-based) so far. */
  onLayer?: (index: number, done: number) => void;
}

export interface UnpackedRoot {
  dir: string;
  /** Devices and fifos the layers have and the folder does not. */
  skipped: number;
  /** The 1-based index of the layer a clean path comes from; undefined for what no layer lists. */
  provider(path: string): number | undefined;
}

export async function unpackLayers(store: ImageStore, layers: readonly Descriptor[], dir: string, where: string, options: UnpackOptions = {}): Promise<UnpackedRoot> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const listed: Array<Set<string>> = [];
  let skipped = 0;
  const owners = options.owners ?? process.getuid?.() === 0;
  for (const [i, layer] of layers.entries()) {
    const index = i + 1;
    const applied = await applyLayer(await store.getBlob(layer, options), dir, `${where} layer ${index}/${layers.length} (${layer.digest})`, {
      size: layer.size, signal: options.signal, owners, onRead: (done) => options.onLayer?.(index, done),
    });
    listed.push(applied.listed);
    skipped += applied.skipped;
  }
  return {
    dir,
    skipped,
    provider(path) {
      const name = cleanEntryName(path);
      for (let i = listed.length - 1; i >= 0; i--) if (listed[i]!.has(name)) return i + 1;
      return undefined;
    },
  };
}
