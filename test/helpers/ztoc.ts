// A layer's zTOC built on the test's own thread, from a stream: the reference the thread pool and
// soci's output are compared with.
import type { Readable } from 'node:stream';
import { ZtocBuilder, type BuiltZtoc } from '../../src/core/soci/build.js';

export async function buildZtoc(source: Readable, compression: 'gzip' | 'none', where: string, options: { spanSize?: number } = {}): Promise<BuiltZtoc> {
  const builder = new ZtocBuilder(compression, where, options);
  for await (const chunk of source) builder.push(chunk as Buffer);
  return builder.finish();
}
