// Checks a layer the way stargz-snapshotter will at mount and on read: footer, TOC, the TOC digest
// against the layer's annotation, the layout of every entry, and every chunk against its digest.
// Everything found is collected, so a report says all that is wrong at once.
import { throwIfAborted } from '../errors.js';
import { inflateChunks, memberProblem } from './inflate.js';
import type { Member, TocLayout } from './layout.js';
import type { BlobAccess } from '../oci/index.js';
import type { OpenedEstargz } from './open.js';

export const TOC_DIGEST_ANNOTATION = 'containerd.io/snapshot/stargz/toc.digest';
export const UNCOMPRESSED_SIZE_ANNOTATION = 'io.containers.estargz.uncompressed-size';
/** Compressed bytes fetched per Range request when checking chunks. */
const READ_SPAN = 8 * 1024 * 1024;

export interface LayerVerification {
  /** `estargz` when footer and TOC parse; `none` for a layer that is not eStargz at all. */
  format: 'estargz' | 'legacy-stargz' | 'none';
  /** True when the snapshotter would lazily pull it. */
  lazy: boolean;
  /** Reasons it would not be, or would fail on read. */
  problems: string[];
  /** Things worth knowing that do not stop a lazy pull. */
  notes: string[];
  tocDigest?: string;
  layout?: TocLayout;
  /** Chunks whose digest was checked (0 with `quick`). */
  chunksVerified: number;
  /** Set by a deep check: TOC entries whose tar header in the layer (and content digest) matched. */
  headersVerified?: number;
}

/**
 * What stargz-snapshotter checks when it mounts an opened layer: the footer kind, the TOC digest
 * against the layer's annotation, and the layout the TOC describes.
 */
export function mountCheck(opened: OpenedEstargz, layout: TocLayout, annotations: Record<string, string> | undefined): Pick<LayerVerification, 'format' | 'problems' | 'notes'> {
  const expected = annotations?.[TOC_DIGEST_ANNOTATION];
  const problems: string[] = [];
  const notes: string[] = [];
  if (opened.footer.legacy) notes.push('legacy stargz footer (47 bytes): only snapshotters that accept unverified layers mount it');
  if (!expected) {
    problems.push(`no ${TOC_DIGEST_ANNOTATION} annotation: the snapshotter refuses to mount without it ("digest of TOC JSON must be passed")`);
  } else if (expected !== opened.tocDigest) {
    problems.push(`the TOC digest is ${opened.tocDigest} but the annotation says ${expected}: the mount fails ("invalid stargz layer")`);
  }
  if (!annotations?.[UNCOMPRESSED_SIZE_ANNOTATION]) notes.push(`no ${UNCOMPRESSED_SIZE_ANNOTATION} annotation (Stargz Store for Podman/CRI-O uses it)`);
  problems.push(...layout.problems);
  if (layout.innerOffsets) notes.push('entries share gzip members (min-chunk-size): stargz-snapshotter before v0.13 cannot lazily pull this layer');
  return { format: opened.footer.legacy ? 'legacy-stargz' : 'estargz', problems, notes };
}

/** What a layer that does not open as eStargz means: nothing if it does not claim to be, a problem if it does. */
export function notEstargzCheck(reason: string, annotations: Record<string, string> | undefined): LayerVerification {
  if (!annotations?.[TOC_DIGEST_ANNOTATION]) return { format: 'none', lazy: false, problems: [], notes: [`not eStargz (${reason}): pulled whole`], chunksVerified: 0 };
  return { format: 'none', lazy: false, problems: [`annotated as eStargz but ${reason}`], notes: [], chunksVerified: 0 };
}

/**
 * Fetches the blob up to the TOC in large Range reads, cuts it at member boundaries, inflates
 * each member as a stream and hashes exactly the bytes each chunk entry covers. A member refused
 * before inflating (too big, or claiming more than it could hold) is a problem, not fetched.
 */
export async function verifyChunks(blob: BlobAccess, layout: TocLayout, where: string, options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<{ checked: number; problems: string[] }> {
  const members = layout.members;
  const problems: string[] = [];
  const memberAt = (m: Member): string => `the gzip member at byte ${m.offset} (${m.chunks[0]!.name})`;
  let verified = 0;
  let i = 0;
  while (i < members.length) {
    throwIfAborted(options.signal, where);
    const member = members[i]!;
    const refused = memberProblem(member);
    if (refused) {
      problems.push(`${memberAt(member)} ${refused}`);
      options.onProgress?.(member.end, layout.tocOffset);
      i++;
      continue;
    }
    // Take consecutive members until the span is big enough (always at least one).
    const start = members[i]!.offset;
    let j = i + 1;
    while (j < members.length && members[j]!.end - start <= READ_SPAN && !memberProblem(members[j]!)) j++;
    const end = members[j - 1]!.end;
    const span = await blob.read(start, end - start);
    await Promise.all(members.slice(i, j).map(async (m) => {
      let chunks;
      try {
        chunks = await inflateChunks(m, span.subarray(m.offset - start, m.end - start));
      } catch (e) {
        problems.push(`${memberAt(m)} ${(e as Error).message}`);
        return;
      }
      for (const { chunk: c, length, digest } of chunks) {
        if (!c.digest) continue;
        if (length !== c.length) problems.push(`${c.name} at file offset ${c.chunkOffset}: the member holds ${length} of the chunk's ${c.length} bytes`);
        else if (digest !== c.digest) problems.push(`${c.name} at file offset ${c.chunkOffset}: chunk digest ${digest} does not match the TOC's ${c.digest}`);
        else verified++;
      }
    }));
    options.onProgress?.(end, layout.tocOffset);
    i = j;
  }
  return { checked: verified, problems };
}
