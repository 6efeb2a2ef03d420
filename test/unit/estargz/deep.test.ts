// verify --deep on eStargz: a TOC whose entry says another mode, size, link target, type or name
// than the tar header in its layer, in an image whose every digest matches (the TOC digest
// annotation, the layer digest, the diff ID), is caught by the deep check with the field named.
// stargz-snapshotter serves files from the TOC alone, so plain verify cannot see most of these.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { footerBytes } from '../../../src/core/estargz/footer.js';
import { openEstargz } from '../../../src/core/estargz/open.js';
import { TOC_TAR_NAME } from '../../../src/core/estargz/toc.js';
import { TOC_DIGEST_ANNOTATION, UNCOMPRESSED_SIZE_ANNOTATION } from '../../../src/core/estargz/verify.js';
import { verifyImage } from '../../../src/core/jobs/index.js';
import { MediaType, sha256, type Descriptor, type ImageManifest, type OciLayoutStore } from '../../../src/core/oci/index.js';
import { tarHeaderBlock } from '../../../src/core/tar/writer.js';
import { tempLayout } from '../../helpers/images.js';
import { useTempDirs } from '../helpers/tmp.js';
import { access, convert, makeTar } from './helpers.js';

const tempDir = useTempDirs('lazyimg-estargz-deep-');

type RawEntry = Record<string, unknown> & { name: string; type: string };

describe('verify --deep on eStargz TOCs', () => {
  let store: OciLayoutStore;
  let blob: Buffer;
  let json: Buffer;
  let tocOffset: number;

  before(async () => {
    store = await tempLayout('lazyimg-estargz-deep-layout-');
    ({ blob } = await convert(await makeTar('plain'), await tempDir()));
    const opened = await openEstargz(access(blob), 'layer');
    json = opened.json;
    tocOffset = opened.footer.tocOffset;
  });

  after(async () => {
    await rm(store.dir, { recursive: true, force: true });
  });

  /** The layer with its TOC changed by `change`, in an image tagged `tag` whose digests all match. */
  async function imageWith(change: (entries: RawEntry[]) => void, tag: string, damage?: (prefix: Buffer) => void): Promise<void> {
    const toc = JSON.parse(json.toString()) as { entries: RawEntry[] };
    change(toc.entries);
    const newJson = Buffer.from(JSON.stringify(toc, null, '\t'));
    const tocTar = Buffer.concat([tarHeaderBlock({ name: TOC_TAR_NAME, size: newJson.length, mode: 0, typeflag: '0' }), newJson, Buffer.alloc((512 - (newJson.length % 512)) % 512 + 1024)]);
    const prefix = Buffer.from(blob.subarray(0, tocOffset));
    damage?.(prefix);
    const layerBlob = Buffer.concat([prefix, gzipSync(tocTar), footerBytes(tocOffset)]);
    const uncompressed = damage ? Buffer.alloc(0) : gunzipSync(layerBlob); // a damaged layer has no true diff ID
    const layer: Descriptor = {
      mediaType: MediaType.OciLayerGzip, digest: sha256(layerBlob), size: layerBlob.length,
      annotations: { [TOC_DIGEST_ANNOTATION]: sha256(newJson), [UNCOMPRESSED_SIZE_ANNOTATION]: String(uncompressed.length) },
    };
    const configBytes = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(uncompressed)] }, config: {} }));
    const config: Descriptor = { mediaType: MediaType.OciConfig, digest: sha256(configBytes), size: configBytes.length };
    await store.putBlob(layer, async () => Readable.from([layerBlob]));
    await store.putBlob(config, async () => Readable.from([configBytes]));
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] };
    await store.putManifest(Buffer.from(JSON.stringify(manifest)), MediaType.OciManifest, tag);
  }

  const entry = (entries: RawEntry[], name: string): RawEntry => {
    const found = entries.find((e) => e.name === name);
    assert.ok(found, name);
    return found;
  };

  it('passes the layer as converted, every tar header matching its TOC entry', async () => {
    await imageWith(() => undefined, 'honest');
    const report = await verifyImage(store, 'honest', { deep: true });
    assert.equal(report.ok, true, JSON.stringify(report.layers[0]!.lazy.problems));
    const entries = (JSON.parse(json.toString()) as { entries: RawEntry[] }).entries.filter((e) => e.type !== 'chunk');
    assert.equal(report.layers[0]!.lazy.headersVerified, entries.length);
  });

  const cases: Array<{ name: string; change: (entries: RawEntry[]) => void; deep: RegExp; plainCatches?: boolean }> = [
    {
      name: 'a mode',
      change: (es) => (entry(es, 'app/bin/server').mode = 0o644),
      deep: /^TOC entry "app\/bin\/server": mode is 0644, the tar header in the layer says 0755$/,
    },
    {
      name: 'a link target',
      change: (es) => (entry(es, 'app/link-to-text').linkName = 'text2'),
      deep: /^TOC entry "app\/link-to-text": link target is "text2", the tar header in the layer says "text"$/,
    },
    {
      name: 'a type',
      change: (es) => (entry(es, 'app/empty').type = 'fifo'),
      deep: /^TOC entry "app\/empty": type is "fifo", the tar header in the layer says "reg"$/,
    },
    {
      name: 'a name',
      change: (es) => (entry(es, 'app/text').name = 'app/texu'),
      deep: /^TOC entry "app\/texu": the tar header in the layer names it "app\/text"$/,
    },
    {
      name: 'a modification time and an owner',
      change: (es) => {
        const e = entry(es, 'app/bin/server');
        e.modtime = '2001-01-01T00:00:00Z';
        e.uid = 0;
      },
      deep: /^TOC entry "app\/bin\/server": uid is 0, the tar header in the layer says 1000 \(and 1 more difference\)$/,
    },
    {
      // The chunk then covers more than the member holds: plain verify sees the chunk, not the size.
      name: 'a size',
      change: (es) => (entry(es, 'app/bin/server').size = 30),
      deep: /^TOC entry "app\/bin\/server": size is 30, the tar header in the layer says 23/,
      plainCatches: true,
    },
  ];

  for (const c of cases) {
    it(`catches ${c.name} that the tar header does not say`, async () => {
      const tag = c.name.replace(/\W+/g, '-');
      await imageWith(c.change, tag);
      const plain = await verifyImage(store, tag);
      if (c.plainCatches) assert.ok(plain.layers[0]!.lazy.problems.length > 0, 'plain verify sees the chunk');
      else assert.deepEqual(plain.layers[0]!.lazy.problems, [], 'plain verify takes the lie');
      assert.deepEqual(plain.problems, [], 'every digest matches');
      const deep = await verifyImage(store, tag, { deep: true });
      assert.equal(deep.ok, false);
      const problems = deep.layers[0]!.lazy.problems;
      assert.match(problems.at(-1)!, c.deep, JSON.stringify(problems));
    });
  }

  it('catches a file whose content is not its digest, and a TOC entry the tar lacks', async () => {
    await imageWith((es) => {
      entry(es, 'app/bin/server').digest = sha256('other');
      es.push({ name: 'app/ghost', type: 'dir', mode: 0o755 });
    }, 'ghost');
    const deep = await verifyImage(store, 'ghost', { deep: true });
    assert.match(deep.layers[0]!.lazy.problems.at(-1)!, /^TOC entry "app\/bin\/server": digest is sha256:[0-9a-f]{64}, the file's content in the layer hashes to sha256:[0-9a-f]{64} \(and 1 more difference\)$/);
  });

  it('says where a layer stops reading as gzip members holding a tar, without a crash or a hang', async () => {
    // The last byte of the first member's CRC: the member inflates, its check fails.
    const first = (JSON.parse(json.toString()) as { entries: RawEntry[] }).entries.find((e) => typeof e.offset === 'number' && (e.offset as number) > 0)!;
    await imageWith(() => undefined, 'damaged', (prefix) => (prefix[(first.offset as number) - 5]! ^= 0xff));
    const deep = await verifyImage(store, 'damaged', { deep: true });
    assert.equal(deep.ok, false);
    assert.match(deep.layers[0]!.lazy.problems.at(-1)!, /^the layer before its TOC does not read as gzip members holding a tar: .*incorrect data check/);
  });
});
