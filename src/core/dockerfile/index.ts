export * from './analyze.js';
export * from './findings.js';
export * from './model.js';
export { entrypointFiles } from './rules/lazy.js';
export * from './layers.js';
export { buildContext } from './context.js';
