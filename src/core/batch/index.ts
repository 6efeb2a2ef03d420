export { BatchCache, CACHE_FORMAT, canonicalJson, recordKey, artifactType as cacheArtifactType, type ItemRecord, type RecordKind } from './cache.js';
