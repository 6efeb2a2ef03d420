export { BatchCache, CACHE_FORMAT, canonicalJson, recordKey, artifactType as cacheArtifactType, type ItemRecord, type RecordKind } from './cache.js';
export { DEFAULT_RULES, destinationFor, expandPlan, type BatchItem, type ItemOperation } from './expand.js';
export * from './kubernetes.js';
export * from './plan.js';
export * from './run.js';
export * from './shard.js';
