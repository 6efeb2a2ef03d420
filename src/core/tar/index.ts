export * from './names.js';
export * from './reader.js';
export * from './writer.js';
