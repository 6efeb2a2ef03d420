// Builds an image from tar entries into any store: each layer is tarred, gzipped and hashed in one
// streaming pass to a temporary file, then stored; config and manifest follow.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { tarStream, type TarEntry } from '../tar/index.js';
import { Digester, sha256 } from './digest.js';
import { MediaType } from './mediaTypes.js';
import type { ImageStore } from './store.js';
import type { Descriptor, ImageConfig, ImageManifest, Platform } from './types.js';

/** A layer from tar entries, or from a whole tar archive made elsewhere. */
export type LayerInput = ({ entries: Iterable<TarEntry> | AsyncIterable<TarEntry> } | { tar: Buffer }) & {
  /** Shown as the layer's `created_by` in the config history. */
  createdBy?: string;
};

export interface WriteImageOptions {
  tag?: string;
  platform?: Platform;
  /** The runtime part of the config (Env, Entrypoint, Cmd, ...). */
  runtime?: ImageConfig['config'];
  /** RFC 3339; a fixed default keeps the output reproducible. */
  created?: string;
  gzipLevel?: number;
  signal?: AbortSignal;
}

export interface WrittenImage {
  manifest: Descriptor;
  config: Descriptor;
  layers: Array<Descriptor & { diffId: string }>;
}

export async function writeImage(store: ImageStore, layers: LayerInput[], options: WriteImageOptions = {}): Promise<WrittenImage> {
  const temp = await mkdtemp(join(tmpdir(), 'lazyimg-build-'));
  const signal = options.signal ? { signal: options.signal } : {};
  try {
    const written: WrittenImage['layers'] = [];
    for (const [i, layer] of layers.entries()) {
      const file = join(temp, `layer-${i}`);
      const diff = new Digester();
      const blob = new Digester();
      await pipeline(
        'tar' in layer ? Readable.from([layer.tar]) : tarStream(layer.entries),
        tap((c) => diff.update(c)),
        createGzip({ level: options.gzipLevel ?? 6 }),
        tap((c) => blob.update(c)),
        createWriteStream(file),
        signal,
      );
      const descriptor: Descriptor = { mediaType: MediaType.OciLayerGzip, digest: blob.digest(), size: blob.size };
      await store.putBlob(descriptor, async () => createReadStream(file), signal);
      written.push({ ...descriptor, diffId: diff.digest() });
    }
    const created = options.created ?? '1970-01-01T00:00:00Z';
    const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
    const config: ImageConfig = {
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      created,
      config: options.runtime ?? {},
      rootfs: { type: 'layers', diff_ids: written.map((l) => l.diffId) },
      history: layers.map((l) => ({ created, created_by: l.createdBy ?? 'lazyimg' })),
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const configDescriptor: Descriptor = { mediaType: MediaType.OciConfig, digest: sha256(configBytes), size: configBytes.length };
    await store.putBlob(configDescriptor, async () => Readable.from([configBytes]), signal);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: configDescriptor,
      layers: written.map(({ diffId: _diffId, ...d }) => d),
    };
    const descriptor = await store.putManifest(Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest, options.tag, signal);
    return { manifest: descriptor, config: configDescriptor, layers: written };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function tap(see: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      see(chunk);
      done(null, chunk);
    },
  });
}
