// Opens an eStargz blob the way the snapshotter does, with two ranged reads: the footer, then the
// TOC member it points at. Sizes are checked before anything is buffered, so a hostile blob cannot
// make us allocate what its footer or TOC header claims.
import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { LazyImageError } from '../errors.js';
import { MAX_TOC_BYTES } from '../limits.js';
import { sha256, type BlobAccess } from '../oci/index.js';
import { TarParser } from '../tar/index.js';
import { FOOTER_SIZE, LEGACY_FOOTER_SIZE, parseFooter, type Footer } from './footer.js';
import { parseToc, TOC_TAR_NAME, type Toc } from './toc.js';

const gunzip = promisify(gunzipCallback);

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

/** The JSON inside the TOC member: a tar whose first entry must be `stargz.index.json`. */
async function readTocMember(member: Buffer, where: string): Promise<Buffer> {
  let tar: Buffer;
  try {
    tar = await gunzip(member, { maxOutputLength: MAX_TOC_BYTES + 4096 });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ERR_BUFFER_TOO_LARGE' ? `decompresses to more than ${MAX_TOC_BYTES} bytes`
      : code === 'Z_BUF_ERROR' ? 'is truncated' : `is not valid gzip (${(e as Error).message})`;
    throw notEstargz(where, `the TOC member at the footer's offset ${why}`);
  }
  const parts: Buffer[] = [];
  let seen = false;
  let expected = 0;
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
      if (collecting) parts.push(chunk);
    },
  }, `${where} (TOC)`);
  const complete = (): boolean => seen && !problem && parts.reduce((n, p) => n + p.length, 0) === expected;
  try {
    parser.push(tar);
    parser.finish();
  } catch (e) {
    // Like the Go reader, only the first entry counts: damage after it does not matter.
    if (!problem && !complete()) throw notEstargz(where, `the TOC tar is damaged: ${(e as Error).message.replace(/^.*?: /, '')}`);
  }
  if (problem) throw notEstargz(where, problem);
  if (!complete()) throw notEstargz(where, seen ? 'the TOC JSON is cut short' : 'the TOC member holds no tar entry');
  return Buffer.concat(parts);
}
