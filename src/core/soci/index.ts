// SOCI: zTOCs (build, encode, decode), their gzip checkpoints and spans, and SOCI index manifests.
export * from './build.js';
export { ztocDifferences, type ZtocDifference, type ZtocExpectations } from './compare.js';
export * from './compression.js';
export { deepCheckZtoc, type DeepZtocCheck, type DeepZtocOptions } from './deep.js';
export { goEscape, goIndex, goManifest } from './goJson.js';
export * from './manifest.js';
export * from './prefetch.js';
export * from './spans.js';
export * from './verify.js';
export { decodeGzipZinfo, inflateFromCheckpoint, type Checkpoint } from './zinfo.js';
export * from './ztoc.js';
export { ZtocThreads, type ThreadBuiltZtoc } from './ztocThread.js';
