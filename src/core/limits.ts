// The most we accept from untrusted data (registries, layout folders, blobs), in one place. Sizes
// are checked before anything is fetched or allocated, so a lying descriptor or header costs an
// error, not memory.

/** Manifests and indexes: distribution's default limit, which soci-snapshotter shares. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** A SOCI prefetch artifact: a few span ranges, some 40 bytes each. */
export const MAX_PREFETCH_BYTES = 4 * 1024 * 1024;
/** Image configs are small; a claimed size past this is hostile or broken. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** An eStargz TOC, compressed or not: about a million entries. */
export const MAX_TOC_BYTES = 256 * 1024 * 1024;
/** zTOCs hold about 32 KiB per span plus the file list: 512 MiB covers a 64 GB layer. */
export const MAX_ZTOC_BYTES = 512 * 1024 * 1024;
/** A file read whole into memory (`cat`, Open File): configs and scripts, not a layer's worth. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
/** Image indexes nested deeper than this are refused rather than followed. */
export const MAX_INDEX_DEPTH = 4;
/** Symbolic links followed while resolving one path: Linux's MAXSYMLINKS. */
export const MAX_LINK_HOPS = 40;
/**
 * The span size a zTOC may declare. A read holds a whole span, compressed and inflated, as the
 * snapshotter does; soci's default is 4 MiB, and past 64 MiB a lazy read fetches as much as a
 * whole small layer, so only a broken or hostile zTOC asks for more.
 */
export const MAX_SPAN_BYTES = 64 * 1024 * 1024;
/**
 * How far a span may run past its declared size: it ends at the first deflate block boundary
 * after that size. zlib writes at most 32767 symbols of at most 258 bytes per block (8 MiB).
 */
export const MAX_SPAN_OVERRUN = 16 * 1024 * 1024;
/**
 * How many times its compressed size gzip data may inflate to when nothing else bounds it (a whole
 * layer streamed by `cat`, conversion or SOCI indexing; an eStargz member against the chunks it
 * claims). Real layers inflate 2 to 10 times; deflate tops out at 1032, where gzip bombs sit. At
 * soci's 4 MiB spans, 128 is also where a zTOC (a 32 KiB window per span) outgrows its layer.
 */
export const MAX_INFLATE_RATIO = 128;
/** What any gzip data may inflate to whatever its size, so small layers of zeros still pass. */
export const MIN_INFLATE_ALLOWANCE = 1024 * 1024 * 1024;
/**
 * An eStargz gzip member, fetched whole to be inflated: with the default 4 MiB chunks a member is
 * about that size; a member this large is a TOC pointing across the layer.
 */
export const MAX_MEMBER_BYTES = 256 * 1024 * 1024;

/** The most `compressed` bytes of gzip data may inflate to before it is refused as a bomb. */
export function inflateAllowance(compressed: number): number {
  return Math.max(compressed * MAX_INFLATE_RATIO, MIN_INFLATE_ALLOWANCE);
}
