// Inflating the gzip members of an eStargz blob, which come from a registry: as a stream, only as
// far as what is wanted, and never further than the member could honestly hold. Each chunk is
// hashed as it passes, so checking a chunk costs no memory whatever size it claims.
import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import { formatBytes } from '../format.js';
import { inflateAllowance, MAX_INFLATE_RATIO, MAX_MEMBER_BYTES } from '../limits.js';
import type { ChunkRef, Member } from './layout.js';

/** Inflates gzip data, handing over its output until `enough` says so (or it ends); nothing more is inflated. */
export function inflateUntil(gzip: Buffer, enough: (chunk: Buffer) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const z = createGunzip({ chunkSize: 64 * 1024 });
    z.on('data', (chunk: Buffer) => {
      let stop: boolean;
      try {
        stop = enough(chunk);
      } catch (e) {
        z.destroy();
        reject(e);
        return;
      }
      if (stop) {
        z.destroy();
        resolve();
      }
    });
    z.on('error', reject);
    z.on('end', resolve);
    z.end(gzip);
  });
}

/** What a member held for one of its chunks. */
export interface InflatedChunk {
  chunk: ChunkRef;
  /** Bytes of the chunk the member held: less than `chunk.length` when it ends early. */
  length: number;
  digest: string;
}

/**
 * Why a member is not inflated at all, as words that follow "the gzip member at byte N": bigger
 * than a member is fetched, or its chunks claim more than its compressed bytes could inflate to.
 */
export function memberProblem(member: Member): string | undefined {
  const compressed = member.end - member.offset;
  if (compressed > MAX_MEMBER_BYTES) return `is ${compressed} bytes, over the ${MAX_MEMBER_BYTES}-byte limit for a member`;
  const need = memberNeed(member);
  if (need > inflateAllowance(compressed)) {
    return `is ${formatBytes(compressed)} but its chunks claim ${formatBytes(need)} (${need} bytes), more than ${MAX_INFLATE_RATIO} times over: refused as a likely gzip bomb`;
  }
  return undefined;
}

/**
 * Inflates a member (its compressed bytes `gzip`) up to the end of its last chunk, hashing each
 * chunk, and hands `take` each piece of a chunk with its offset in the chunk. Throws, with words
 * that follow "the gzip member at byte N", when the member is refused or does not inflate.
 */
export async function inflateChunks(member: Member, gzip: Buffer, take?: (chunk: ChunkRef, at: number, bytes: Buffer) => void): Promise<InflatedChunk[]> {
  const problem = memberProblem(member);
  if (problem) throw new Error(problem);
  const need = memberNeed(member);
  const hashes = member.chunks.map(() => createHash('sha256'));
  const lengths = member.chunks.map(() => 0);
  let position = 0;
  try {
    await inflateUntil(gzip, (out) => {
      member.chunks.forEach((c, i) => {
        const from = Math.max(c.innerOffset, position);
        const to = Math.min(c.innerOffset + c.length, position + out.length);
        if (from >= to) return;
        const bytes = out.subarray(from - position, to - position);
        hashes[i]!.update(bytes);
        lengths[i]! += bytes.length;
        take?.(c, from - c.innerOffset, bytes);
      });
      position += out.length;
      return position >= need;
    });
  } catch (e) {
    throw new Error(`does not inflate (${(e as Error).message})`, { cause: e });
  }
  return member.chunks.map((chunk, i) => ({ chunk, length: lengths[i]!, digest: `sha256:${hashes[i]!.digest('hex')}` }));
}

/** Output a member must produce to cover all its chunks. */
function memberNeed(member: Member): number {
  return Math.max(0, ...member.chunks.map((c) => c.innerOffset + c.length));
}
