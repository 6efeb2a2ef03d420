import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FormatError } from '../../src/core/errors.js';
import { sha256 } from '../../src/core/oci/digest.js';
import { MAX_MANIFEST_BYTES } from '../../src/core/limits.js';
import { normalizeContentType, parseManifest } from '../../src/core/oci/manifest.js';
import { MediaType } from '../../src/core/oci/mediaTypes.js';
import { assertThrowsCode } from './helpers/errors.js';
import { fakeDigest } from './helpers/oci.js';

const config = { mediaType: MediaType.OciConfig, digest: fakeDigest('c'), size: 100 };
const layer = (c: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ mediaType: MediaType.OciLayerGzip, digest: fakeDigest(c), size: 10, ...extra });
const platformEntry = (c: string, architecture: string): Record<string, unknown> => ({
  mediaType: MediaType.OciManifest,
  digest: fakeDigest(c),
  size: 500,
  platform: { architecture, os: 'linux' },
});
const json = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));

describe('parseManifest', () => {
  const ok: Array<{ name: string; doc: unknown; contentType?: string; kind: 'index' | 'manifest'; mediaType: string }> = [
    {
      name: 'OCI manifest',
      doc: { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer('1'), layer('2', { annotations: { a: 'b' }, urls: ['https://x'] })] },
      kind: 'manifest',
      mediaType: MediaType.OciManifest,
    },
    {
      name: 'OCI manifest without mediaType, without content type',
      doc: { schemaVersion: 2, config, layers: [] },
      kind: 'manifest',
      mediaType: MediaType.OciManifest,
    },
    {
      name: 'OCI artifact manifest with subject and artifactType',
      doc: { schemaVersion: 2, mediaType: MediaType.OciManifest, artifactType: 'application/vnd.example+json', config: { ...config, mediaType: MediaType.OciEmpty }, layers: [], subject: layer('5'), annotations: { k: 'v' } },
      kind: 'manifest',
      mediaType: MediaType.OciManifest,
    },
    {
      name: 'OCI index',
      doc: { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [platformEntry('1', 'amd64'), platformEntry('2', 'arm64')] },
      kind: 'index',
      mediaType: MediaType.OciIndex,
    },
    {
      name: 'index without mediaType, recognized by its manifests',
      doc: { schemaVersion: 2, manifests: [platformEntry('1', 'amd64')] },
      kind: 'index',
      mediaType: MediaType.OciIndex,
    },
    {
      name: 'Docker manifest list known only from the content type',
      doc: { schemaVersion: 2, manifests: [{ ...platformEntry('1', 'amd64'), mediaType: MediaType.DockerManifest }] },
      contentType: `${MediaType.DockerManifestList}; charset=utf-8`,
      kind: 'index',
      mediaType: MediaType.DockerManifestList,
    },
    {
      name: 'Docker manifest v2',
      doc: { schemaVersion: 2, mediaType: MediaType.DockerManifest, config: { ...config, mediaType: MediaType.DockerConfig }, layers: [layer('1', { mediaType: MediaType.DockerLayerGzip })] },
      contentType: MediaType.DockerManifest,
      kind: 'manifest',
      mediaType: MediaType.DockerManifest,
    },
    {
      name: 'the document mediaType wins over the content type',
      doc: { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [] },
      contentType: MediaType.DockerManifest,
      kind: 'manifest',
      mediaType: MediaType.OciManifest,
    },
  ];
  for (const c of ok) {
    it(`parses ${c.name}`, () => {
      const bytes = json(c.doc);
      const doc = parseManifest(bytes, c.contentType, 'test manifest');
      assert.equal(doc.kind, c.kind);
      assert.deepEqual(doc.descriptor, { mediaType: c.mediaType, digest: sha256(bytes), size: bytes.length });
      assert.equal(doc.bytes, bytes);
      assert.deepEqual(doc.kind === 'index' ? doc.index : doc.manifest, c.doc);
    });
  }

  const bad: Array<{ name: string; bytes: Buffer; contentType?: string; code?: string; includes: string[] }> = [
    { name: 'schema 1 by version', bytes: json({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), code: 'UNSUPPORTED', includes: ['where', 'schema 1'] },
    { name: 'schema 1 by content type', bytes: json({ name: 'x' }), contentType: MediaType.DockerSchema1Signed, code: 'UNSUPPORTED', includes: ['where', 'schema 1'] },
    { name: 'malformed JSON', bytes: Buffer.from('{"schemaVersion": 2,'), includes: ['Invalid where', 'not JSON'] },
    { name: 'not an object', bytes: json([1, 2]), includes: ['document must be an object'] },
    { name: 'schemaVersion 3', bytes: json({ schemaVersion: 3, config, layers: [] }), includes: ['schemaVersion must be 2'] },
    { name: 'no schemaVersion', bytes: json({ config, layers: [] }), includes: ['schemaVersion must be 2'] },
    { name: 'unknown mediaType', bytes: json({ schemaVersion: 2, mediaType: 'text/plain', config, layers: [] }), includes: ['mediaType', '"text/plain"'] },
    { name: 'mediaType not a string', bytes: json({ schemaVersion: 2, mediaType: 5, config, layers: [] }), includes: ['mediaType must be a string'] },
    { name: 'missing config', bytes: json({ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] }), includes: ['config must be an object'] },
    { name: 'layers not an array', bytes: json({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: {} }), includes: ['layers must be an array'] },
    { name: 'negative size', bytes: json({ schemaVersion: 2, config: { ...config, size: -1 }, layers: [] }), includes: ['config.size', 'non-negative integer'] },
    { name: 'fractional size', bytes: json({ schemaVersion: 2, config, layers: [layer('1', { size: 1.5 })] }), includes: ['layers[0].size'] },
    { name: 'size as a string', bytes: json({ schemaVersion: 2, config, layers: [layer('1', { size: '10' })] }), includes: ['layers[0].size'] },
    { name: 'bad digest in a layer', bytes: json({ schemaVersion: 2, config, layers: [layer('1'), layer('1', { digest: 'sha256:1234' })] }), includes: ['layers[1].digest', 'sha256:1234'] },
    { name: 'missing mediaType in a layer', bytes: json({ schemaVersion: 2, config, layers: [layer('1', { mediaType: undefined })] }), includes: ['layers[0].mediaType'] },
    { name: 'annotation that is not a string', bytes: json({ schemaVersion: 2, config, layers: [layer('1', { annotations: { n: 1 } })] }), includes: ['layers[0].annotations["n"]'] },
    { name: 'urls that are not strings', bytes: json({ schemaVersion: 2, config, layers: [layer('1', { urls: [1] })] }), includes: ['layers[0].urls'] },
    { name: 'bad subject', bytes: json({ schemaVersion: 2, config, layers: [], subject: { mediaType: MediaType.OciManifest, size: 1 } }), includes: ['subject.digest'] },
    { name: 'index entry without platform os', bytes: json({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ ...platformEntry('1', 'amd64'), platform: { architecture: 'amd64' } }] }), includes: ['manifests[0].platform.os'] },
    { name: 'index without manifests', bytes: json({ schemaVersion: 2, mediaType: MediaType.OciIndex }), includes: ['manifests must be an array'] },
    { name: 'artifactType not a string', bytes: json({ schemaVersion: 2, config, layers: [], artifactType: 1 }), includes: ['artifactType must be a string'] },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => {
      const code = c.code ?? 'INVALID_FORMAT';
      assertThrowsCode(() => parseManifest(c.bytes, c.contentType, 'where'), {
        code,
        includes: c.includes,
        check: (e) => {
          if (code === 'INVALID_FORMAT') {
            assert.ok(e instanceof FormatError);
            assert.equal(e.digest, sha256(c.bytes));
          }
        },
      });
    });
  }

  it(`rejects a document over ${MAX_MANIFEST_BYTES} bytes before parsing it`, () => {
    const big = json({ schemaVersion: 2, config, layers: [], annotations: { pad: 'x'.repeat(MAX_MANIFEST_BYTES) } });
    assertThrowsCode(() => parseManifest(big, MediaType.OciManifest, 'big one'), { code: 'INVALID_FORMAT', includes: ['big one', String(MAX_MANIFEST_BYTES)] });
  });

  it(`accepts a document of exactly ${MAX_MANIFEST_BYTES} bytes`, () => {
    const shell = json({ schemaVersion: 2, config, layers: [], annotations: { pad: '' } });
    const padded = json({ schemaVersion: 2, config, layers: [], annotations: { pad: 'x'.repeat(MAX_MANIFEST_BYTES - shell.length) } });
    assert.equal(padded.length, MAX_MANIFEST_BYTES);
    assert.equal(parseManifest(padded, undefined, 'edge').kind, 'manifest');
  });
});

describe('normalizeContentType', () => {
  const cases = [
    { value: 'application/json; charset=utf-8', want: 'application/json' },
    { value: ' Application/VND.OCI.image.manifest.v1+json ', want: MediaType.OciManifest },
    { value: '', want: undefined },
    { value: undefined, want: undefined },
  ];
  for (const c of cases) it(`${JSON.stringify(c.value)} -> ${String(c.want)}`, () => assert.equal(normalizeContentType(c.value), c.want));
});
