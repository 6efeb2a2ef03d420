// SOCI index manifests: JSON as Go writes it (the snapshotter re-serializes and checks the digest),
// and the reader's list of what would make the snapshotter refuse an index.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MediaType, sha256, type ManifestDocument } from '../../../src/core/oci/index.js';
import { goIndex, goManifest, goString } from '../../../src/core/soci/goJson.js';
import { parseSociIndex, SOCI_INDEX_V2, sociIndexManifest } from '../../../src/core/soci/manifest.js';

const layer = { mediaType: MediaType.OciLayerGzip, digest: `sha256:${'1'.repeat(64)}`, size: 20_000_000 };
const ztoc = { mediaType: 'application/octet-stream', digest: `sha256:${'2'.repeat(64)}`, size: 3000 };

function doc(bytes: Buffer): ManifestDocument {
  return { kind: 'manifest', descriptor: { mediaType: MediaType.OciManifest, digest: sha256(bytes), size: bytes.length }, bytes, manifest: JSON.parse(bytes.toString()) };
}

describe('Go JSON', () => {
  it('escapes <, >, &, U+2028 and U+2029 like encoding/json', () => {
    assert.equal(goString('a<b>&c\u2028\u2029"\\\n'), '"a\\u003cb\\u003e\\u0026c\\u2028\\u2029\\"\\\\\\n"');
  });

  it('writes struct fields in declaration order, drops empty ones and sorts map keys by bytes', () => {
    const bytes = goManifest({
      annotations: { z: '1', B: '2', a: '3' }, layers: [], config: { size: 2, digest: 'sha256:x', mediaType: 'm', annotations: {} }, schemaVersion: 2, mediaType: MediaType.OciManifest,
    });
    assert.equal(bytes.toString(), '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"m","digest":"sha256:x","size":2},"layers":[],"annotations":{"B":"2","a":"3","z":"1"}}');
    const index = goIndex({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [{ artifactType: 'a', platform: { variant: 'v8', os: 'linux', architecture: 'arm64' }, size: 1, digest: 'd', mediaType: 'm', annotations: { k: 'v' } }] });
    assert.equal(index.toString(), '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"m","digest":"d","size":1,"annotations":{"k":"v"},"platform":{"architecture":"arm64","os":"linux","variant":"v8"},"artifactType":"a"}]}');
  });
});

describe('SOCI index manifest', () => {
  it('is the manifest soci writes: the v2 config, one zTOC per layer with its three annotations, the build tool', () => {
    const bytes = sociIndexManifest('v2', [{ ztoc, layer, spanSize: 4194304 }]);
    assert.equal(bytes.toString(), `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"${SOCI_INDEX_V2}","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/octet-stream","digest":"${ztoc.digest}","size":3000,"annotations":{"com.amazon.soci.image-layer-digest":"${layer.digest}","com.amazon.soci.image-layer-mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","com.amazon.soci.span-size":"4194304"}}],"annotations":{"com.amazon.soci.build-tool-identifier":"AWS SOCI CLI v0.2"}}`);
    const parsed = parseSociIndex(doc(bytes), 'ix');
    assert.equal(parsed.version, 'v2');
    assert.deepEqual(parsed.problems, []);
    assert.equal(parsed.ztocs.get(layer.digest)?.digest, ztoc.digest);
  });

  it('names what the snapshotter would refuse: JSON Go would write differently, no zTOC, no layer annotation', () => {
    const pretty = Buffer.from(JSON.stringify(JSON.parse(sociIndexManifest('v2', [{ ztoc, layer, spanSize: 1 }]).toString()), null, 1));
    assert.match(parseSociIndex(doc(pretty), 'ix').problems.join('\n'), /its JSON is not what Go writes for it/);
    const unannotated = goManifest({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: SOCI_INDEX_V2, digest: 'sha256:c', size: 2 }, layers: [ztoc] });
    const problems = parseSociIndex(doc(unannotated), 'ix').problems.join('\n');
    assert.match(problems, /zTOC 1 \(sha256:2+\) has no com\.amazon\.soci\.image-layer-digest annotation/);
    assert.match(problems, /it lists no zTOC/);
  });

  it('refuses a manifest whose config is not a SOCI index version', () => {
    const other = goManifest({ schemaVersion: 2, mediaType: MediaType.OciManifest, config: { mediaType: MediaType.OciConfig, digest: 'sha256:c', size: 2 }, layers: [] });
    assert.throws(() => parseSociIndex(doc(other), 'ix'), /ix: config media type application\/vnd\.oci\.image\.config\.v1\+json is not a SOCI index version/);
  });
});
