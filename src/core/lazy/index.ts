export * from './check.js';
export * from './estargz.js';
export * from './glob.js';
export * from './image.js';
export type * from './layer.js';
export * from './merged.js';
export * from './open.js';
export * from './soci.js';
