export * from './convert.js';
export * from './copy.js';
export * from './inspect.js';
export * from './list.js';
export * from './progress.js';
export * from './stores.js';
export * from './toc.js';
export * from './verify.js';
