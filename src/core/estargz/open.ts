// Opens an eStargz blob the way the snapshotter does, with two ranged reads: the footer, then the
// TOC member it points at. Sizes are checked before anything is buffered, so a hostile blob cannot
// make us allocate what its footer or TOC header claims.
import { LazyImageError } from '../errors.js';
import { MAX_TOC_BYTES } from '../limits.js';
import { sha256, type BlobAccess } from '../oci/index.js';
import { TarParser } from '../tar/index.js';
import { inflateUntil } from './inflate.js';
import { FOOTER_SIZE, LEGACY_FOOTER_SIZE, parseFooter, type Footer } from './footer.js';
import { parseToc, TOC_TAR_NAME, type Toc } from './toc.js';

export interface OpenedEstargz {
  footer: Footer;
  /** Compressed size of the TOC member. */
  tocSize: number;
  json: Buffer;
  toc: Toc;
  /** sha256 of the TOC JSON, what the `toc.digest` annotation must say. */
  tocDigest: string;
}

/** The layer is not (valid) eStargz; the message is `<where>: <reason>`. */
function notEstargz(where: string, reason: string): LazyImageError {
  return new LazyImageError('INVALID_FORMAT', `${where}: ${reason}`, { ref: where });
}

export async function openEstargz(blob: BlobAccess, where: string): Promise<OpenedEstargz> {
  if (blob.size < LEGACY_FOOTER_SIZE) throw notEstargz(where, `${blob.size} bytes is too small to hold an eStargz footer`);
  const tailLength = Math.min(FOOTER_SIZE, blob.size);
  const footer = parseFooter(await blob.read(blob.size - tailLength, tailLength));
  if ('error' in footer) throw notEstargz(where, footer.error);
  const tocEnd = blob.size - footer.size;
  if (footer.tocOffset >= tocEnd) throw notEstargz(where, `the footer puts the TOC at byte ${footer.tocOffset}, past its end at ${tocEnd}`);
  const tocSize = tocEnd - footer.tocOffset;
  if (tocSize > MAX_TOC_BYTES) throw notEstargz(where, `the TOC member is ${tocSize} bytes, over the ${MAX_TOC_BYTES}-byte limit`);
  const json = await readTocMember(await blob.read(footer.tocOffset, tocSize), where);
  return { footer, tocSize, json, toc: parseToc(json, where), tocDigest: sha256(json) };
}

/**
 * The JSON inside the TOC member: a tar whose first entry must be `stargz.index.json`. The member
 * is inflated as a stream and only until that entry's data is in, so its output is bounded by the
 * size the entry declares (itself at most MAX_TOC_BYTES), not by what the member would inflate to.
 */
async function readTocMember(member: Buffer, where: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let seen = false;
  let expected = 0;
  let have = 0;
  let collecting = false;
  let problem: string | undefined;
  const parser = new TarParser({
    entry(header) {
      collecting = false;
      if (seen) return;
      seen = true;
      if (header.name !== TOC_TAR_NAME) problem = `the TOC member holds ${JSON.stringify(header.name)}, not ${TOC_TAR_NAME}`;
      else if (header.size > MAX_TOC_BYTES) problem = `the TOC header declares ${header.size} bytes, over the ${MAX_TOC_BYTES}-byte limit`;
      else {
        collecting = true;
        expected = header.size;
      }
    },
    data(chunk) {
      if (!collecting) return;
      parts.push(chunk);
      have += chunk.length;
    },
  }, `${where} (TOC)`);
  const complete = (): boolean => seen && !problem && have === expected;
  // Like the Go reader, only the first entry counts: damage after it does not matter.
  const damaged = await inflateUntil(member, (chunk) => {
    parser.push(chunk);
    return problem !== undefined || complete() || parser.ended;
  }).catch((e: unknown) => {
    if (e instanceof LazyImageError) return e.message.replace(/^.*?: /, '');
    const code = (e as { code?: string }).code;
    throw notEstargz(where, `the TOC member at the footer's offset ${code === 'Z_BUF_ERROR' ? 'is truncated' : `is not valid gzip (${(e as Error).message})`}`);
  });
  if (problem) throw notEstargz(where, problem);
  if (!complete() && typeof damaged === 'string') throw notEstargz(where, `the TOC tar is damaged: ${damaged}`);
  if (!complete()) throw notEstargz(where, seen ? 'the TOC JSON is cut short' : 'the TOC member holds no tar entry');
  return Buffer.concat(parts, have);
}
