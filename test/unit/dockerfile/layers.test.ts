// mapLayers(): the final stage's layer-creating instructions matched to the image's last layers,
// and what it says when they cannot be.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapLayers, parseDockerfile } from '../../../src/core/dockerfile/index.js';
import type { ImageLaziness, LayerLaziness } from '../../../src/core/image/index.js';
import { dockerfile } from './helpers.js';

const layer = (index: number): LayerLaziness => ({
  descriptor: { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${String(index).repeat(64)}`, size: 1000 * index },
  index,
  reason: 'pulled whole',
});
const image = (n: number, createdBy: string[] = []): ImageLaziness => ({
  image: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'f'.repeat(64)}`, size: 500 },
  layers: Array.from({ length: n }, (_, i) => layer(i + 1)),
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, history: createdBy.map((c) => ({ created_by: c })) },
  sociIndexes: [],
});
const model = parseDockerfile(dockerfile('FROM scratch', 'COPY base/ /', 'COPY model/ /opt/model/', 'COPY app/ /app/', 'ENTRYPOINT ["/app/server.sh"]'));

describe('mapLayers()', () => {
  it('gives each layer-creating instruction one of the last layers, in order', () => {
    const mapping = mapLayers(model, image(4, ['base', 'COPY base/ /', 'COPY model/ /opt/model/', 'COPY app/ /app/']));
    assert.equal(mapping.problem, undefined);
    assert.deepEqual(mapping.layers.map((l) => [l.instruction.keyword, l.layer.index]), [['COPY', 2], ['COPY', 3], ['COPY', 4]]);
  });

  it('says, in words, that an image with too few layers was not built from this Dockerfile', () => {
    assert.equal(mapLayers(model, image(1)).problem, 'the image has 1 layer, fewer than the 3 this Dockerfile\'s final stage creates');
    assert.equal(mapLayers(model, image(2)).problem, 'the image has 2 layers, fewer than the 3 this Dockerfile\'s final stage creates');
  });

  it('doubts an image whose history tells other steps', () => {
    assert.match(mapLayers(model, image(3, ['RUN make', 'RUN make install', 'RUN cleanup'])).problem ?? '', /3 of 3 steps differ/);
  });
});
