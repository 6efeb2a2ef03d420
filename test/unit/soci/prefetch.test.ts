// SOCI prefetch artifacts: paths cleaned and trimmed as soci does, span ranges merged, the JSON
// Go writes, files mapped to spans through real zTOCs (gzip and plain tar layers built here), and
// an index job's artifacts read back by verify and inspect, broken ones included.
// Byte equality with `soci convert --prefetch-file` is in test/integration/sociPrefetch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { buildSociIndexes, inspectImage, verifyImage } from '../../../src/core/jobs/index.js';
import {
  cleanPrefetchPath, decodePrefetchArtifact, decodeZtoc, encodePrefetchArtifact, goManifest, INDEX_DIGEST_ANNOTATION, mergeSpans, parsePrefetchFilesJson, parseSociIndex, planPrefetch,
  prefetchDescriptor, prefetchPaths, sociIndexManifest, spanTable, type PrefetchLayer, type PrefetchSpan, type Ztoc,
} from '../../../src/core/soci/index.js';
import { MediaType, readBlob, sha256, writeImage, type Descriptor, type ImageManifest, type ManifestDocument, type OciLayoutStore } from '../../../src/core/oci/index.js';
import { tempLayout } from '../../helpers/images.js';
import type { TarEntry } from '../../../src/core/tar/writer.js';
import { buildZtoc } from '../../helpers/ztoc.js';
import { assertThrowsCode } from '../helpers/errors.js';
import { tarBytes } from '../helpers/image.js';

const SPAN = 64 * 1024;

function file(name: string, size: number): TarEntry {
  return { name, type: 'file', content: randomBytes(size) };
}

async function ztocOf(entries: TarEntry[], compression: 'gzip' | 'none'): Promise<Ztoc> {
  const tar = await tarBytes(entries);
  const blob = compression === 'gzip' ? gzipSync(tar, { level: 1 }) : tar;
  return (await buildZtoc(Readable.from([blob]), compression, 'test layer', { spanSize: SPAN })).ztoc;
}

describe('prefetch paths', () => {
  it('cleans as Go filepath.Clean of "/" + path, without the leading slash', () => {
    assert.equal(cleanPrefetchPath('/usr/bin/ls'), 'usr/bin/ls');
    assert.equal(cleanPrefetchPath('usr//bin/./ls/'), 'usr/bin/ls');
    assert.equal(cleanPrefetchPath('/usr/lib/../bin/ls'), 'usr/bin/ls');
    assert.equal(cleanPrefetchPath('../../etc/passwd'), 'etc/passwd');
    assert.equal(cleanPrefetchPath('./etc'), 'etc');
    assert.equal(cleanPrefetchPath('/'), '');
    assert.equal(cleanPrefetchPath('a\\b'), 'a\\b');
  });

  it('trims Go white space (NEL and NBSP too, not the BOM) and drops what is left empty', () => {
    assert.deepEqual(prefetchPaths([' /a ', '\u0085/b\u00a0', '\t\n', '', '\ufeff/c']), ['/a', '/b', '\ufeff/c']);
  });

  it('reads --prefetch-files-json: an array of strings or null', () => {
    assert.deepEqual(parsePrefetchFilesJson('[" /usr/bin/ls", "", "/etc/passwd"]', 'f'), ['/usr/bin/ls', '/etc/passwd']);
    assert.deepEqual(parsePrefetchFilesJson('null', 'f'), []);
    assertThrowsCode(() => parsePrefetchFilesJson('{"files":[]}', 'f'), { code: 'INVALID_ARGUMENT', includes: ['JSON array of paths'] });
    assertThrowsCode(() => parsePrefetchFilesJson('["a", 1]', 'f'), { code: 'INVALID_ARGUMENT' });
    assertThrowsCode(() => parsePrefetchFilesJson('[', 'f'), { code: 'INVALID_ARGUMENT', includes: ['not JSON'] });
  });
});

describe('prefetch artifact', () => {
  it('merges ranges that overlap or touch, after sorting by start then end', () => {
    const spans = (pairs: Array<[number, number]>): Array<{ startSpan: number; endSpan: number }> => pairs.map(([startSpan, endSpan]) => ({ startSpan, endSpan }));
    assert.deepEqual(mergeSpans(spans([[5, 5], [0, 1], [2, 2], [7, 9], [8, 8], [4, 4]])), spans([[0, 2], [4, 5], [7, 9]]));
    assert.deepEqual(mergeSpans(spans([[3, 3], [3, 3]])), spans([[3, 3]]));
    assert.deepEqual(mergeSpans([]), []);
  });

  it('is written as Go encodes soci\'s struct, priority left out when 0, and reads back', () => {
    const bytes = encodePrefetchArtifact([{ startSpan: 0, endSpan: 0 }, { startSpan: 2, endSpan: 7, priority: 1 }]);
    assert.equal(bytes.toString(), '{"version":"1.0","prefetch_spans":[{"start_span":0,"end_span":0},{"start_span":2,"end_span":7,"priority":1}]}');
    assert.deepEqual(decodePrefetchArtifact(bytes, 'a'), [{ startSpan: 0, endSpan: 0 }, { startSpan: 2, endSpan: 7, priority: 1 }]);
    const d = prefetchDescriptor(`sha256:${'1'.repeat(64)}`, bytes);
    assert.deepEqual(d, { mediaType: 'application/vnd.amazon.soci.prefetch.v1+json', digest: sha256(bytes), size: bytes.length, annotations: { 'com.amazon.soci.image-layer-digest': `sha256:${'1'.repeat(64)}` } });
  });

  it('is refused where the daemon refuses it: another version, no spans, numbers that are no int32', () => {
    const read = (text: string): unknown => decodePrefetchArtifact(Buffer.from(text), 'a');
    assertThrowsCode(() => read('{"version":"1.1","prefetch_spans":[{"start_span":0,"end_span":0}]}'), { code: 'INVALID_FORMAT', includes: ['version "1.1"'] });
    assertThrowsCode(() => read('{"version":"1.0","prefetch_spans":[]}'), { code: 'INVALID_FORMAT', includes: ['no spans'] });
    assertThrowsCode(() => read('{"version":"1.0"}'), { code: 'INVALID_FORMAT', includes: ['no spans'] });
    assertThrowsCode(() => read('{"version":"1.0","prefetch_spans":[{"start_span":1.5}]}'), { code: 'INVALID_FORMAT', includes: ['32-bit'] });
    assertThrowsCode(() => read('[1]'), { code: 'INVALID_FORMAT' });
    // Go leaves a missing field at 0.
    assert.deepEqual(read('{"version":"1.0","prefetch_spans":[{"end_span":3}]}'), [{ startSpan: 0, endSpan: 3 }]);
  });
});

describe('files mapped to spans through real zTOCs', () => {
  it('covers each file\'s bytes, from the span of its first byte to the span of the offset past its end (gzip layer)', async () => {
    const entries = [
      { name: 'etc', type: 'directory' as const },
      file('etc/small', 3000), file('usr/big', 5 * SPAN + 123), file('usr/mid', SPAN / 2), { name: 'usr/empty', type: 'file' as const, content: Buffer.alloc(0) },
      { name: 'usr/link', type: 'symlink' as const, linkname: 'big' }, file('usr/tail', 40_000),
    ];
    const ztoc = await ztocOf(entries, 'gzip');
    const table = spanTable(ztoc, undefined, 't');
    assert.ok(table.spans.length >= 5, `${table.spans.length} spans`);
    const layer = `sha256:${'a'.repeat(64)}`;
    const paths = ['/etc/small', 'usr/big', '/usr/mid', '/usr/empty', '/usr/link', '/usr/tail', '/etc'];
    const plan = planPrefetch([{ digest: layer, ztoc }], paths, 't');
    // A folder's tar name ends in a slash, which the cleaned path never has: soci finds no folder.
    assert.equal(ztoc.entries[0]!.name, 'etc/');
    assert.deepEqual(plan.missing, ['/etc']);
    assert.deepEqual(plan.files.map((f) => f.name), ['etc/small', 'usr/big', 'usr/mid', 'usr/empty', 'usr/link', 'usr/tail']);
    for (const f of plan.files) {
      const e = ztoc.entries.find((x) => x.name === f.name)!;
      // Independently of the lookup: the spans whose uncompressed range meets [offset, end].
      const end = e.uncompressedOffset + e.uncompressedSize;
      const meets = table.spans.filter((s) => s.outStart <= end && s.outEnd > e.uncompressedOffset).map((s) => s.id);
      const lastStarting = table.spans.filter((s) => s.outStart <= end).at(-1)!.id;
      assert.equal(f.startSpan, meets[0], `${f.name}: first span`);
      assert.equal(f.endSpan, lastStarting, `${f.name}: last span`);
      assert.ok(table.spans[f.startSpan]!.outStart <= e.uncompressedOffset && table.spans[f.endSpan]!.outEnd >= end, `${f.name}: every byte is in the range`);
    }
    assert.ok(plan.files.find((f) => f.name === 'usr/big')!.endSpan - plan.files.find((f) => f.name === 'usr/big')!.startSpan >= 4, 'a file over several spans');
    assert.equal(plan.artifacts.length, 1);
    assert.deepEqual(plan.artifacts[0]!.spans, mergeSpans(plan.files.map(({ startSpan, endSpan }) => ({ startSpan, endSpan }))));
  });

  it('plain tar: fixed spans, and a file ending on a span boundary takes the next span, as soci maps it', async () => {
    // The first header is at 0, so the data starts at 512: 2*SPAN - 512 bytes end exactly at 2*SPAN.
    const ztoc = await ztocOf([file('a', 2 * SPAN - 512), file('b', 100)], 'none');
    assert.equal(ztoc.compressionAlgorithm, 'uncompressed');
    const plan = planPrefetch([{ digest: 'sha256:l', ztoc }], ['/a', '/b'], 't');
    assert.deepEqual(plan.files.map((f) => [f.name, f.startSpan, f.endSpan]), [['a', 0, 2], ['b', 2, 2]]);
    assert.deepEqual(plan.artifacts[0]!.spans, [{ startSpan: 0, endSpan: 2 }]);
  });

  it('takes the topmost layer with a zTOC that lists the path, the first entry of that name, raw names only', async () => {
    const base = await ztocOf([file('shared', 10), file('only-base', 10), file('dup', 10), file('dup', SPAN * 2), file('hidden', 10)], 'gzip');
    const top = await ztocOf([file('pad', SPAN * 3), file('shared', 10), { name: './dotted', type: 'file', content: Buffer.from('x') }], 'gzip');
    const layers: PrefetchLayer[] = [{ digest: 'sha256:base', ztoc: base }, { digest: 'sha256:skipped' }, { digest: 'sha256:top', ztoc: top }];
    // `hidden` is also in the layer without a zTOC, which soci passes over.
    const plan = planPrefetch(layers, ['/shared', '/only-base', '/dup', '/hidden', '/dotted', '/nowhere', ' '], 't');
    assert.deepEqual(plan.files.map((f) => [f.path, f.layer]), [['/shared', 'sha256:top'], ['/only-base', 'sha256:base'], ['/dup', 'sha256:base'], ['/hidden', 'sha256:base']]);
    // soci compares the cleaned path with the tar name as stored: `./dotted` never matches.
    assert.deepEqual(plan.missing, ['/dotted', '/nowhere']);
    const dup = plan.files.find((f) => f.path === '/dup')!;
    assert.deepEqual([dup.startSpan, dup.endSpan], [0, 0], 'the first, small entry named dup');
    // Artifacts in manifest order, for the layers holding a file.
    assert.deepEqual(plan.artifacts.map((a) => a.layer), ['sha256:base', 'sha256:top']);
  });
});

describe('SOCI index with prefetch artifacts', () => {
  const layer = { mediaType: MediaType.OciLayerGzip, digest: `sha256:${'1'.repeat(64)}`, size: 20_000_000 };
  const other = `sha256:${'3'.repeat(64)}`;
  const ztoc = { mediaType: 'application/octet-stream', digest: `sha256:${'2'.repeat(64)}`, size: 3000 };
  const doc = (bytes: Buffer): ManifestDocument => ({ kind: 'manifest', descriptor: { mediaType: MediaType.OciManifest, digest: sha256(bytes), size: bytes.length }, bytes, manifest: JSON.parse(bytes.toString()) });

  it('lists them after the zTOCs; the reader maps them by layer and flags one whose layer has no zTOC', () => {
    const mine = prefetchDescriptor(layer.digest, encodePrefetchArtifact([{ startSpan: 0, endSpan: 1 }]));
    const stray = prefetchDescriptor(other, encodePrefetchArtifact([{ startSpan: 0, endSpan: 0 }]));
    const bytes = sociIndexManifest('v2', [{ ztoc, layer, spanSize: 4194304 }], undefined, [mine, stray]);
    const parsed = parseSociIndex(doc(bytes), 'ix');
    assert.deepEqual(JSON.parse(bytes.toString()).layers.map((l: { mediaType: string }) => l.mediaType), ['application/octet-stream', 'application/vnd.amazon.soci.prefetch.v1+json', 'application/vnd.amazon.soci.prefetch.v1+json']);
    assert.equal(parsed.ztocs.size, 1);
    assert.equal(parsed.prefetch.get(layer.digest)?.digest, mine.digest);
    assert.deepEqual(parsed.problems, [`prefetch artifact ${stray.digest} is for layer ${other}, which has no zTOC here, so it is never read`]);
  });
});

describe('an index job with files to prefetch, read back by verify and inspect', () => {
  let store: OciLayoutStore;
  let fixture: { image: ImageManifest; index: ImageManifest; ztoc: Ztoc };

  before(async () => {
    store = await tempLayout('lazyimg-soci-prefetch-');
    const tar = await tarBytes([file('a/one', 3 * SPAN), file('a/two', 1000), file('b/three', 2 * SPAN), file('b/four', 10)]);
    await writeImage(store, [{ tar }], { tag: 'src', gzipLevel: 1 });
    const result = await buildSociIndexes(store, 'src', store, 'soci', { spanSize: SPAN, minLayerSize: 0, prefetchFiles: ['/a/two', ' /b/four', '/missing'] });
    const { prefetch } = result.indexes[0]!;
    assert.deepEqual(prefetch?.missing, ['/missing']);
    assert.deepEqual(prefetch?.files.map((f) => f.name), ['a/two', 'b/four']);
    const read = async (d: Descriptor): Promise<ImageManifest> => ((await store.getManifest(d)) as { manifest: ImageManifest }).manifest;
    const index = await read(result.indexes[0]!.index);
    fixture = { image: await read(await store.resolve('src')), index, ztoc: decodeZtoc(await readBlob(store, index.layers[0]!, 1 << 30), 'z') };
    assert.equal(index.layers[1]!.digest, prefetch!.artifacts[0]!.digest);
  });

  after(async () => {
    await rm(store.dir, { recursive: true, force: true });
  });

  /** The image under `tag`, its SOCI index listing `spans` as the layer's prefetch artifact instead. */
  async function withArtifact(spans: PrefetchSpan[], tag: string): Promise<void> {
    const bytes = encodePrefetchArtifact(spans);
    const artifact = prefetchDescriptor(fixture.image.layers[0]!.digest, bytes);
    await store.putBlob(artifact, async () => Readable.from([bytes]));
    const index = await store.putManifest(goManifest({ ...fixture.index, layers: [fixture.index.layers[0]!, artifact] }), MediaType.OciManifest);
    await store.putManifest(goManifest({ ...fixture.image, annotations: { [INDEX_DIGEST_ANNOTATION]: index.digest } }), MediaType.OciManifest, tag);
  }

  it('verify reads the artifact: the spans fetched at mount, their bytes, the files they hold whole', async () => {
    const report = await verifyImage(store, 'soci');
    assert.equal(report.ok, true, JSON.stringify(report.layers[0]?.soci?.problems));
    const p = report.layers[0]!.soci!.prefetch!;
    const table = spanTable(fixture.ztoc, undefined, 't');
    const wanted = new Set(planPrefetch([{ digest: 'l', ztoc: fixture.ztoc }], ['/a/two', '/b/four'], 't').files.flatMap((f) => [f.startSpan, f.endSpan]));
    assert.equal(p.spans, wanted.size);
    assert.equal(p.bytes, [...wanted].reduce((n, id) => n + table.spans[id]!.end - table.spans[id]!.start, 0));
    assert.ok(p.files >= 2, `${p.files} files held whole`);
    const inspected = await inspectImage(store, 'soci', 'soci');
    const image = inspected.manifests.find((m) => m.soci)!;
    assert.equal(image.soci![0]!.prefetch, 1);
    assert.equal(image.layers[0]!.soci?.prefetch, p.artifact);
  });

  it('verify flags spans past the last, below 0, or backwards, and an artifact the daemon refuses; the layer stays lazy', async () => {
    const last = fixture.ztoc.maxSpanId;
    await withArtifact([{ startSpan: -1, endSpan: 0 }, { startSpan: 2, endSpan: 1 }, { startSpan: last, endSpan: last + 2 }], 'bad-spans');
    const report = await verifyImage(store, 'bad-spans');
    assert.equal(report.ok, false);
    const soci = report.layers[0]!.soci!;
    assert.equal(soci.lazy, true);
    assert.equal(soci.problems.length, 3, soci.problems.join('\n'));
    assert.match(soci.problems[0]!, /range 1 \(spans -1-0\) starts below span 0/);
    assert.match(soci.problems[1]!, /range 2 \(spans 2-1\) is empty/);
    assert.match(soci.problems[2]!, new RegExp(`range 3 \\(spans ${last}-${last + 2}\\) goes past the layer's last span, ${last}`));
    assert.equal(soci.prefetch!.spans, 2, 'span 0 and the last');

    await withArtifact([], 'empty');
    const empty = (await verifyImage(store, 'empty')).layers[0]!.soci!;
    assert.equal(empty.lazy, true);
    assert.match(empty.problems.join('\n'), /it lists no spans: the snapshotter prefetches nothing for this layer/);
  });
});
