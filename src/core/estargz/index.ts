// eStargz: build a layer (convert), open one (footer and TOC), describe and verify its layout.
export { buildEstargz, DEFAULT_GZIP_LEVEL, type BuildOptions, type BuiltLayer } from './build.js';
export { footerBytes, FOOTER_SIZE, LEGACY_FOOTER_SIZE, parseFooter, type Footer } from './footer.js';
export { GzipPool } from './gzipPool.js';
export { inflateChunks, memberProblem, type InflatedChunk } from './inflate.js';
export { verifyTarHeaders, type HeaderCheck } from './headers.js';
export { describeLayout, type ChunkRef, type Member, type TocLayout } from './layout.js';
export { openEstargz, type OpenedEstargz } from './open.js';
export { decompressed, wrapDecompressError, type Compression } from './spool.js';
export * from './toc.js';
export * from './verify.js';
