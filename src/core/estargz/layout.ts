// What a TOC says about the blob's layout: the gzip members and the chunks in each, the prefetch
// range, counts, and everything that would make the snapshotter fail (offsets outside the blob or
// going backwards, chunks that do not tile their file, missing digests, dangling hard links).
import { count } from '../format.js';
import { cleanEntryName } from '../tar/index.js';
import { NO_PREFETCH_LANDMARK, PREFETCH_LANDMARK, type Toc, type TocEntry } from './toc.js';

export interface ChunkRef {
  name: string;
  /** The regular file's own entry (a path may occur twice in a layer; the later one wins). */
  file: TocEntry;
  /** Where the chunk's bytes start in the decompressed member, and how many. */
  innerOffset: number;
  chunkOffset: number;
  length: number;
  digest: string | undefined;
}

export interface Member {
  offset: number;
  /** Where the next member (or the TOC) starts. */
  end: number;
  chunks: ChunkRef[];
}

export interface TocLayout {
  tocOffset: number;
  members: Member[];
  files: number;
  dirs: number;
  links: number;
  chunks: number;
  /** Sum of regular file sizes. */
  bytes: number;
  /** What the snapshotter prefetches: the range before `.prefetch.landmark`, nothing, or its configured default. */
  prefetch: { kind: 'landmark'; bytes: number; files: number } | { kind: 'none' } | { kind: 'default' };
  innerOffsets: boolean;
  problems: string[];
}

export function describeLayout(toc: Toc, tocOffset: number): TocLayout {
  const problems: string[] = [];
  const byName = new Map<string, TocEntry>();
  const members: Member[] = [];
  let files = 0, dirs = 0, links = 0, chunks = 0, bytes = 0;
  let innerOffsets = false;
  let prefetch: TocLayout['prefetch'] = { kind: 'default' };
  let filesBefore = 0;
  let file: { entry: TocEntry; next: number } | undefined;
  let lastOffset = -1;
  let lastInner = -1;
  const missingDigests: string[] = [];

  const closeFile = (): void => {
    if (file && file.next !== file.entry.size) problems.push(`${file.entry.name}: its chunks cover ${file.next} of its ${file.entry.size} bytes`);
    file = undefined;
  };

  toc.entries.forEach((e, i) => {
    if (e.type !== 'chunk') {
      closeFile();
      byName.set(cleanEntryName(e.name), e);
    }
    if (e.type === 'dir') dirs++;
    if (e.type === 'symlink' || e.type === 'hardlink') links++;
    if (e.type === 'reg') {
      const name = cleanEntryName(e.name);
      if (name === PREFETCH_LANDMARK) prefetch = { kind: 'landmark', bytes: e.offset ?? 0, files: filesBefore };
      else if (name === NO_PREFETCH_LANDMARK) prefetch = { kind: 'none' };
      else {
        files++;
        filesBefore++;
        bytes += e.size ?? 0;
      }
    }
    const isData = (e.type === 'reg' && (e.size ?? 0) > 0) || e.type === 'chunk';
    if (!isData) return;
    chunks++;
    const owner = e.type === 'reg' ? e : file?.entry;
    if (!owner) return; // parseToc already rejects a chunk without a file
    const name = owner.name;
    if (e.type === 'reg') file = { entry: e, next: 0 };
    const chunkOffset = e.chunkOffset ?? 0;
    if (chunkOffset !== file!.next) problems.push(`${name}: a chunk starts at file offset ${chunkOffset}, expected ${file!.next}`);
    const length = e.chunkSize ? e.chunkSize : (owner.size ?? 0) - chunkOffset;
    if (length <= 0) problems.push(`${name}: the chunk at file offset ${chunkOffset} is empty or past the end of the file`);
    file!.next = chunkOffset + Math.max(length, 0);
    if (!e.chunkDigest) missingDigests.push(name);
    const offset = e.offset ?? 0;
    const inner = e.innerOffset ?? 0;
    if (inner) innerOffsets = true;
    if (offset >= tocOffset) {
      problems.push(`TOC entry ${i} (${name}) points at byte ${offset}, at or past the TOC at byte ${tocOffset}`);
      return;
    }
    if (offset < lastOffset || (offset === lastOffset && inner <= lastInner)) {
      problems.push(`TOC entry ${i} (${name}) at byte ${offset}${inner ? `+${inner}` : ''} does not come after the previous chunk (byte ${lastOffset})`);
      return;
    }
    if (offset !== lastOffset) {
      const prev = members[members.length - 1];
      if (prev) prev.end = offset;
      members.push({ offset, end: tocOffset, chunks: [] });
    }
    lastOffset = offset;
    lastInner = inner;
    members[members.length - 1]!.chunks.push({ name, file: owner, innerOffset: inner, chunkOffset, length: Math.max(length, 0), digest: e.chunkDigest ?? (chunkOffset === 0 && length === owner.size ? owner.digest : undefined) });
  });
  closeFile();

  // Like the Go verifier: every data entry needs its chunk digest, unless no file is chunked and
  // every file has its whole-file digest.
  const unchunkedWithDigests = toc.entries.every((e) => e.type !== 'chunk' && (e.type !== 'reg' || !e.size || e.digest));
  if (missingDigests.length && !unchunkedWithDigests) {
    problems.push(`${count(missingDigests.length, 'chunk')} without a chunkDigest (first: ${missingDigests[0]}): the snapshotter cannot verify them`);
  }
  for (const e of toc.entries) {
    if (e.type !== 'hardlink') continue;
    const target = cleanEntryName(e.linkName ?? '');
    if (!byName.has(target)) problems.push(`${e.name} is a hard link to ${e.linkName ?? '(nothing)'}, which is not in the layer`);
  }
  return { tocOffset, members, files, dirs, links, chunks, bytes, prefetch, innerOffsets, problems };
}
