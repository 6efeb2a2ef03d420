// `catFile` with the file's bytes collected, for tests that compare them.
import { catFile, type CatResult } from '../../../src/core/jobs/index.js';
import type { ImageStore } from '../../../src/core/oci/index.js';

export async function catBytes(store: ImageStore, tagOrDigest: string, path: string): Promise<CatResult & { bytes: Buffer }> {
  const chunks: Buffer[] = [];
  const result = await catFile(store, tagOrDigest, path, async (chunk) => void chunks.push(Buffer.from(chunk)));
  return { ...result, bytes: Buffer.concat(chunks) };
}
