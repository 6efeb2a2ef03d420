import { FormatError } from '../errors.js';
import type { CallOptions, ImageStore } from './store.js';
import type { Descriptor } from './types.js';

/** Reads a small blob (a config, a TOC) whole; refuses sizes over `limit` before fetching. */
export async function readBlob(store: ImageStore, descriptor: Descriptor, limit: number, options: CallOptions = {}): Promise<Buffer> {
  if (descriptor.size > limit) {
    throw new FormatError('INVALID_FORMAT', `Cannot read blob ${descriptor.digest} of ${store.name}: ${descriptor.size} bytes is over the ${limit}-byte limit for this kind of blob`, {
      format: 'blob',
      digest: descriptor.digest,
      ref: store.name,
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of await store.getBlob(descriptor, options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
