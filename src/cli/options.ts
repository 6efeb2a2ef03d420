import { InvalidArgumentError } from 'commander';
import { parsePlatform, parseReference, type ImageReference, type Platform } from '../core/oci/index.js';
import { SNAPSHOTTER_KINDS, isSnapshotterKind, type SnapshotterKind } from '../core/snapshotter/index.js';

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function parseNonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
}

export function parsePlatformOption(value: string): Platform {
  try {
    return parsePlatform(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** Repeatable options: `--insecure a --insecure b`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A reference that names its tag: for deleting, where the implied `latest` would surprise. */
export function parseTaggedReference(value: string): ImageReference & { tag: string } {
  let ref: ImageReference;
  try {
    ref = parseReference(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  if (ref.digest !== undefined || ref.tag === undefined || (ref.tag === 'latest' && !value.endsWith(':latest'))) {
    throw new InvalidArgumentError('expected a reference with an explicit tag, such as registry/repo:tag or oci:<dir>:tag');
  }
  return { ...ref, tag: ref.tag };
}

export function parseSnapshotterKind(value: string): SnapshotterKind {
  if (!isSnapshotterKind(value)) throw new InvalidArgumentError(`expected ${SNAPSHOTTER_KINDS.join(' or ')}`);
  return value;
}
