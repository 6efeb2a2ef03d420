import { LazyImageError } from '../errors.js';
import type { Descriptor } from './types.js';

/** Rejects a byte range that is empty, negative or past the end of the blob. */
export function checkRange(descriptor: Descriptor, offset: number, length: number, where: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 1 || offset + length > descriptor.size) {
    throw new LazyImageError('INVALID_ARGUMENT', `${where}: the range is outside the blob's ${descriptor.size} bytes`);
  }
}
