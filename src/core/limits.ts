// The most we accept from untrusted data (registries, layout folders, blobs), in one place. Sizes
// are checked before anything is fetched or allocated, so a lying descriptor or header costs an
// error, not memory.

/** Manifests and indexes: distribution's default limit, which soci-snapshotter shares. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
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
