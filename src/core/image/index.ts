export * from './config.js';
export * from './images.js';
export * from './laziness.js';
export * from './resolve.js';
export * from './stores.js';
export * from './walk.js';
