// A small, reproducible sample image: the demo's and the tests' default data.
// Three layers: a base of small text files, a large incompressible asset layer (over 10 MiB
// compressed, so SOCI indexes it), and a small application layer.
import { createCipheriv, type Cipher } from 'node:crypto';
import { Readable } from 'node:stream';
import type { TarEntry } from '../src/core/tar/writer.js';
import { writeImage, type ImageStore, type LayerInput, type WrittenImage } from '../src/core/oci/index.js';

/** Deterministic bytes that gzip cannot shrink: AES-CTR keystream from a seed. */
export function pseudoRandom(seed: string, size: number): Readable {
  const cipher = keystream(seed);
  const block = Buffer.alloc(64 * 1024);
  let left = size;
  return Readable.from((function* () {
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      yield cipher.update(block.subarray(0, n));
    }
  })());
}

/** The same bytes as `pseudoRandom`, at once: for tests whose data must not change between runs. */
export function pseudoRandomBytes(seed: string, size: number): Buffer {
  return keystream(seed).update(Buffer.alloc(size));
}

function keystream(seed: string): Cipher {
  const key = Buffer.alloc(16);
  key.write(seed);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
}

function text(name: string, body: string, mode = 0o644): TarEntry {
  return { name, type: 'file', mode, content: Buffer.from(body) };
}

export function sampleLayers(assetBytes = 12 * 1024 * 1024): LayerInput[] {
  const base: TarEntry[] = [
    { name: 'etc', type: 'directory' },
    text('etc/os-release', 'NAME="Lazy Images sample"\nID=lazyimg-sample\n'),
    { name: 'usr', type: 'directory' },
    { name: 'usr/share', type: 'directory' },
    { name: 'usr/share/doc', type: 'directory' },
    ...Array.from({ length: 40 }, (_, i) => text(`usr/share/doc/note-${i}.txt`, `Note ${i}: ${'lazy loading fetches files on demand. '.repeat(20 + i)}\n`)),
    { name: 'bin', type: 'directory' },
    text('bin/hello', '#!/bin/sh\necho "hello from a lazily pulled image"\n', 0o755),
    { name: 'bin/hi', type: 'symlink', linkname: 'hello' },
  ];
  const assets: TarEntry[] = [
    { name: 'opt', type: 'directory' },
    { name: 'opt/model', type: 'directory' },
    { name: 'opt/model/weights.bin', type: 'file', content: { size: assetBytes, stream: () => pseudoRandom('weights', assetBytes) } },
    text('opt/model/README', 'Cold data: read rarely, so it is the part lazy pulling saves.\n'),
  ];
  const app: TarEntry[] = [
    { name: 'app', type: 'directory' },
    text('app/server.sh', '#!/bin/sh\nexec /bin/hello\n', 0o755),
    text('app/config.json', JSON.stringify({ port: 8080, model: '/opt/model/weights.bin' }, null, 2)),
  ];
  return [
    { entries: base, createdBy: 'COPY base/ /' },
    { entries: assets, createdBy: 'COPY model/ /opt/model/' },
    { entries: app, createdBy: 'COPY app/ /app/' },
  ];
}

export function writeSampleImage(store: ImageStore, tag: string, assetBytes?: number): Promise<WrittenImage> {
  return writeImage(store, sampleLayers(assetBytes), {
    tag,
    runtime: { Entrypoint: ['/app/server.sh'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/app' },
  });
}
