// Test images built with the project's own image writer into temporary OCI layouts.
import { MediaType, OciLayoutStore, sha256, writeImage, type Descriptor, type ImageIndex } from '../../src/core/oci/index.js';
import { sampleLayers, writeSampleImage } from '../../scripts/sampleImage.js';
import { tempDir } from './tempDirs.js';

export async function tempLayout(prefix = 'lazyimg-layout-'): Promise<OciLayoutStore> {
  return OciLayoutStore.open(await tempDir(prefix), { create: true });
}

/** The sample image (3 layers) in a new layout, tagged `sample`. */
export async function sampleLayout(assetBytes = 3 * 1024 * 1024): Promise<OciLayoutStore> {
  const store = await tempLayout();
  await writeSampleImage(store, 'sample', assetBytes);
  return store;
}

/** An index over linux/amd64 and linux/arm64 variants of the sample, tagged `multi`. */
export async function multiPlatformLayout(): Promise<{ store: OciLayoutStore; index: Descriptor }> {
  const store = await tempLayout();
  const manifests: Descriptor[] = [];
  for (const platform of [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }]) {
    const image = await writeImage(store, sampleLayers(256 * 1024), { platform, runtime: { Cmd: [`/bin/${platform.architecture}`] } });
    manifests.push({ ...image.manifest, platform });
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
  const bytes = Buffer.from(JSON.stringify(index));
  const descriptor = await store.putManifest(bytes, MediaType.OciIndex, 'multi');
  return { store, index: { ...descriptor, digest: sha256(bytes) } };
}
