// The core snapshotter code, bundled on its own (dist/snapshotterCore.js) and required by path on
// first use: with grpc-js, protobuf.js and the TOML parser it would make the extension's bundle
// half again as big, and every activation pays for parsing a bundle.
export * from '../../core/snapshotter/index.js';
