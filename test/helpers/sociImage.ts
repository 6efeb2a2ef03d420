// A SOCI-enabled test image, and the same image again with its zTOC replaced by other bytes,
// re-addressed so that every digest matches: the zTOC blob, the SOCI index manifest that lists it
// (same annotations), and an image manifest whose index-digest annotation names that index.
import { Readable } from 'node:stream';
import { buildSociIndexes } from '../../src/core/jobs/index.js';
import { MediaType, readBlob, sha256, writeImage, type Descriptor, type ImageManifest, type OciLayoutStore } from '../../src/core/oci/index.js';
import { goManifest, INDEX_DIGEST_ANNOTATION } from '../../src/core/soci/index.js';

export interface SociImage {
  /** The image manifest without an index (tag `src`), and its SOCI index manifest. */
  image: ImageManifest;
  index: ImageManifest;
  layer: Descriptor;
  ztoc: Descriptor;
  ztocBytes: Buffer;
}

/** One layer of `tar`, gzipped, tagged `src`, with a v2 SOCI index of `spanSize` spans (tag `soci`). */
export async function sociImage(store: OciLayoutStore, tar: Buffer, spanSize: number): Promise<SociImage> {
  await writeImage(store, [{ tar }], { tag: 'src', gzipLevel: 6 });
  const result = await buildSociIndexes(store, 'src', store, 'soci', { spanSize, minLayerSize: 0 });
  const index = await manifest(store, result.indexes[0]!.index);
  const image = await manifest(store, await store.resolve('src'));
  const ztoc = index.layers[0]!;
  return { image, index, layer: image.layers[0]!, ztoc, ztocBytes: await readBlob(store, ztoc, 1 << 30) };
}

/** Tags as `tag` the image whose SOCI index lists `bytes` as the layer's zTOC instead. */
export async function withZtocBytes(store: OciLayoutStore, fixture: SociImage, bytes: Buffer, tag: string): Promise<void> {
  const ztoc: Descriptor = { ...fixture.ztoc, digest: sha256(bytes), size: bytes.length };
  await store.putBlob(ztoc, async () => Readable.from([bytes]));
  const index = await store.putManifest(goManifest({ ...fixture.index, layers: [ztoc] }), MediaType.OciManifest);
  const annotations = { ...fixture.image.annotations, [INDEX_DIGEST_ANNOTATION]: index.digest };
  await store.putManifest(goManifest({ ...fixture.image, annotations }), MediaType.OciManifest, tag);
}

async function manifest(store: OciLayoutStore, descriptor: Descriptor): Promise<ImageManifest> {
  const doc = await store.getManifest(descriptor);
  if (doc.kind !== 'manifest') throw new Error(`${descriptor.digest} is not an image manifest`);
  return doc.manifest;
}
