// Stores a small but complete image (one uncompressed tar layer, a config, a manifest) through
// the ImageStore API, so real tools can read the result.
import { Readable } from 'node:stream';
import type { ImageStore } from '../../../src/core/oci/store.js';
import type { Descriptor } from '../../../src/core/oci/types.js';
import { MediaType } from '../../../src/core/oci/mediaTypes.js';
import { tarStream, type TarEntry } from '../../../src/core/tar/writer.js';
import { blob, configBlob, manifestBytes, type ManifestParts } from './oci.js';
import { readAll } from './streams.js';

export interface StoredImage {
  manifest: Descriptor;
  manifestBytes: Buffer;
  config: Descriptor;
  layer: Descriptor;
}

export async function tarBytes(entries: TarEntry[]): Promise<Buffer> {
  return readAll(tarStream(entries));
}

export async function storeImage(
  store: ImageStore,
  options: { tag?: string; text?: string; architecture?: string; extra?: Partial<ManifestParts> } = {},
): Promise<StoredImage> {
  const layerBytes = await tarBytes([
    { name: 'etc', type: 'directory' },
    { name: 'etc/hello.txt', type: 'file', content: Buffer.from(options.text ?? 'hello\n') },
  ]);
  const layer = blob(layerBytes, MediaType.OciLayer);
  const config = configBlob([layer.descriptor.digest], { architecture: options.architecture ?? 'amd64', os: 'linux' });
  for (const b of [layer, config]) await store.putBlob(b.descriptor, async () => Readable.from([b.bytes]));
  const bytes = manifestBytes({ config: config.descriptor, layers: [layer.descriptor], ...options.extra });
  const manifest = await store.putManifest(bytes, MediaType.OciManifest, options.tag);
  return { manifest, manifestBytes: bytes, config: config.descriptor, layer: layer.descriptor };
}
