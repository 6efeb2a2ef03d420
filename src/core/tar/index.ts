export * from './links.js';
export * from './names.js';
export * from './reader.js';
export * from './writer.js';
