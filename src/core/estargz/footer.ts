// The footers that tell a reader where an eStargz (or legacy stargz) TOC starts: an empty gzip
// member whose Extra field carries the TOC offset as 16 lowercase hex digits and "STARGZ".
// Modern: 51 bytes, the offset inside an 'SG' subfield. Legacy (CRFS): 47 bytes, no subfield.

export const FOOTER_SIZE = 51;
export const LEGACY_FOOTER_SIZE = 47;

/** A gzip member header with FEXTRA set, mtime 0, OS unknown, as the Go writer emits. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x04, 0, 0, 0, 0, 0, 0xff]);
/** A final stored deflate block of length 0, then CRC32 and ISIZE of nothing. */
const EMPTY_BODY = Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]);

export function footerBytes(tocOffset: number): Buffer {
  const payload = `${tocOffset.toString(16).padStart(16, '0')}STARGZ`;
  const extra = Buffer.concat([Buffer.from([0x53, 0x47, 22, 0]), Buffer.from(payload, 'latin1')]);
  return Buffer.concat([GZIP_HEADER, Buffer.from([extra.length, 0]), extra, EMPTY_BODY]);
}

export interface Footer {
  tocOffset: number;
  size: typeof FOOTER_SIZE | typeof LEGACY_FOOTER_SIZE;
  legacy: boolean;
}

/**
 * Parses the footer from the last bytes of a blob (up to 51 of them). Like the Go reader it tries
 * the modern form and then the legacy one; the error names what each attempt found wrong.
 */
export function parseFooter(tail: Buffer): Footer | { error: string } {
  const modern = tail.length >= FOOTER_SIZE ? tryFooter(tail.subarray(tail.length - FOOTER_SIZE), false) : 'shorter than 51 bytes';
  if (typeof modern !== 'string') return { tocOffset: modern, size: FOOTER_SIZE, legacy: false };
  const legacy = tail.length >= LEGACY_FOOTER_SIZE ? tryFooter(tail.subarray(tail.length - LEGACY_FOOTER_SIZE), true) : 'shorter than 47 bytes';
  if (typeof legacy !== 'string') return { tocOffset: legacy, size: LEGACY_FOOTER_SIZE, legacy: true };
  return { error: `no eStargz footer (eStargz: ${modern}; legacy stargz: ${legacy})` };
}

function tryFooter(b: Buffer, legacy: boolean): number | string {
  if (b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 0x08) return 'not a gzip header';
  if (!(b[3]! & 0x04)) return 'the gzip header has no Extra field';
  const xlen = b.readUInt16LE(10);
  let field: Buffer;
  if (legacy) {
    if (xlen !== 22) return `the Extra field is ${xlen} bytes, not 22`;
    field = b.subarray(12, 34);
  } else {
    if (xlen < 4) return `the Extra field is ${xlen} bytes`;
    if (b[12] !== 0x53 || b[13] !== 0x47) return 'the Extra subfield is not "SG"';
    const len = b.readUInt16LE(14);
    if (len !== 22) return `the SG subfield is ${len} bytes, not 22`;
    field = b.subarray(16, 38);
  }
  const text = field.toString('latin1');
  if (!text.endsWith('STARGZ')) return 'no STARGZ magic';
  const hex = text.slice(0, 16);
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) return `the TOC offset "${JSON.stringify(hex).slice(1, -1)}" is not hexadecimal`;
  const offset = Number.parseInt(hex, 16);
  if (!Number.isSafeInteger(offset)) return `the TOC offset 0x${hex} is out of range`;
  return offset;
}
