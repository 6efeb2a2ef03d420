// Footers, the TOC reader and the verifier, on good blobs and on blobs broken on purpose: each
// problem is named with where it is, nothing crashes, and declared sizes are never allocated.
import assert from 'node:assert/strict';
import { gzipSync, gunzipSync } from 'node:zlib';
import { before, describe, it } from 'node:test';
import { FOOTER_SIZE, footerBytes, parseFooter } from '../../../src/core/estargz/footer.js';
import { openEstargz } from '../../../src/core/estargz/open.js';
import { parseToc, serializeToc, TOC_TAR_NAME, type TocEntry } from '../../../src/core/estargz/toc.js';
import { TOC_DIGEST_ANNOTATION } from '../../../src/core/estargz/verify.js';
import { checkEstargzLayer } from '../../../src/core/lazy/index.js';
import { sha256 } from '../../../src/core/oci/digest.js';
import { tarHeaderBlock } from '../../../src/core/tar/writer.js';
import { assertRejectsCode, assertThrowsCode } from '../helpers/errors.js';
import { useTempDirs } from '../helpers/tmp.js';
import { access, convert, layerOf, makeTar } from './helpers.js';

const tempDir = useTempDirs('lazyimg-estargz-verify-');

describe('eStargz footer', () => {
  it('is the 51 bytes of the format, an empty gzip member', () => {
    const f = footerBytes(0x1234);
    assert.equal(f.length, FOOTER_SIZE);
    assert.equal(f.toString('hex'), `1f8b08040000000000ff1a0053471600${Buffer.from('0000000000001234STARGZ').toString('hex')}010000ffff0000000000000000`);
    assert.equal(gunzipSync(f).length, 0);
    assert.deepEqual(parseFooter(f), { tocOffset: 0x1234, size: 51, legacy: false });
  });

  it('reads the 47-byte legacy footer', () => {
    const legacy = Buffer.concat([Buffer.from('1f8b08040000000000ff1600', 'hex'), Buffer.from('00000000000000ffSTARGZ'), Buffer.from('010000ffff0000000000000000', 'hex')]);
    assert.equal(legacy.length, 47);
    assert.equal(gunzipSync(legacy).length, 0);
    assert.deepEqual(parseFooter(Buffer.concat([Buffer.alloc(4), legacy])), { tocOffset: 255, size: 47, legacy: true });
  });

  it('says what is wrong with a footer that does not parse', () => {
    const nonHex = footerBytes(0x1234);
    nonHex.write('zz', 16, 'latin1');
    const result = parseFooter(nonHex);
    assert.ok('error' in result && result.error.includes('"zz00000000001234" is not hexadecimal'), JSON.stringify(result));
    const badSubfield = footerBytes(1);
    badSubfield[12] = 0x41;
    assert.ok('error' in parseFooter(badSubfield) && (parseFooter(badSubfield) as { error: string }).error.includes('not "SG"'));
    assert.ok('error' in parseFooter(Buffer.from('plain bytes, not a gzip footer at all, nothing here')));
  });
});

describe('eStargz TOC JSON', () => {
  const entry: TocEntry = { name: 'a<b>&c\u2028', type: 'reg', size: 3, mode: 420, uid: 0, offset: 80, digest: sha256('abc'), chunkDigest: sha256('abc'), xattrs: new Map([['user.b', Buffer.from('2')], ['user.a', Buffer.from([0xff, 0])]]) };

  it('is laid out like Go json.MarshalIndent with tabs: field order, zero fields left out, HTML-safe escapes', () => {
    const text = serializeToc({ version: 1, entries: [entry] }).toString();
    assert.equal(text, [
      '{', '\t"version": 1,', '\t"entries": [', '\t\t{',
      '\t\t\t"name": "a\\u003cb\\u003e\\u0026c\\u2028",', '\t\t\t"type": "reg",', '\t\t\t"size": 3,', '\t\t\t"mode": 420,', '\t\t\t"offset": 80,',
      '\t\t\t"xattrs": {', '\t\t\t\t"user.a": "/wA=",', '\t\t\t\t"user.b": "Mg=="', '\t\t\t},',
      `\t\t\t"digest": "${sha256('abc')}",`, `\t\t\t"chunkDigest": "${sha256('abc')}"`, '\t\t}', '\t]', '}',
    ].join('\n'));
    const written: TocEntry = { ...entry };
    delete written.uid; // zero, so not written
    assert.deepEqual(parseToc(Buffer.from(text), 't').entries[0], written);
  });

  it('reads keys case-insensitively and ignores unknown ones, as Go does', () => {
    const toc = parseToc(Buffer.from('{"Version":1,"entries":[{"Name":"x","TYPE":"dir","NumLink":0,"extra":true}]}'), 't');
    assert.deepEqual(toc.entries, [{ name: 'x', type: 'dir' }]);
  });

  for (const [what, json, message] of [
    ['a name that climbs out of the root', '{"version":1,"entries":[{"name":"../../etc/passwd","type":"reg"}]}', 'climbs out of the layer root'],
    ['an unknown type', '{"version":1,"entries":[{"name":"x","type":"socket"}]}', 'unknown type "socket"'],
    ['a negative offset', '{"version":1,"entries":[{"name":"x","type":"reg","size":1,"offset":-5}]}', 'offset -5'],
    ['a malformed digest', '{"version":1,"entries":[{"name":"x","type":"reg","digest":"md5:abc"}]}', 'malformed digest'],
    ['a chunk with no file', '{"version":1,"entries":[{"name":"x","type":"chunk"}]}', 'does not follow a regular file'],
    ['version 2', '{"version":2,"entries":[]}', 'version is 2'],
    ['not JSON', '{"version":1,', 'not valid JSON'],
  ] as const) {
    it(`rejects ${what}`, () => {
      assertThrowsCode(() => parseToc(Buffer.from(json), 'layer 3'), { code: 'INVALID_FORMAT', includes: ['layer 3', message] });
    });
  }
});

describe('eStargz verification', () => {
  let blob: Buffer;
  let tocDigest: string;
  let tocOffset: number;
  let json: Buffer;
  const annotations = (): Record<string, string> => ({ [TOC_DIGEST_ANNOTATION]: tocDigest, 'io.containers.estargz.uncompressed-size': '1' });

  before(async () => {
    const { built, blob: b } = await convert(await makeTar('edge'), await tempDir());
    blob = b;
    tocDigest = built.tocDigest;
    const opened = await openEstargz(access(blob), 't');
    tocOffset = opened.footer.tocOffset;
    json = opened.json;
  });

  /** The blob up to the TOC, then a new TOC member (optionally with a lying header size), then a footer. */
  function withToc(newJson: Buffer, declaredSize = newJson.length): Buffer {
    const header = tarHeaderBlock({ name: TOC_TAR_NAME, size: declaredSize, mode: 0, typeflag: '0' });
    const pad = Buffer.alloc((512 - (newJson.length % 512)) % 512 + 1024);
    return Buffer.concat([blob.subarray(0, tocOffset), gzipSync(Buffer.concat([header, newJson, pad])), footerBytes(tocOffset)]);
  }

  function tamperToc(change: (entries: Array<Record<string, unknown>>) => void): Buffer {
    const parsed = JSON.parse(json.toString()) as { entries: Array<Record<string, unknown>> };
    change(parsed.entries);
    return withToc(Buffer.from(JSON.stringify(parsed)));
  }

  async function problems(b: Buffer, ann: Record<string, string> | undefined = annotations(), quick = false): Promise<string[]> {
    const report = await checkEstargzLayer(access(b), layerOf(b, ann), 'layer 2/3', { quick });
    assert.equal(report.lazy, report.problems.length === 0);
    return report.problems;
  }

  const expectProblem = (list: string[], part: string): void => assert.ok(list.some((p) => p.includes(part)), `${JSON.stringify(list)} should mention ${JSON.stringify(part)}`);

  it('passes the untouched blob', async () => {
    assert.deepEqual(await problems(blob), []);
  });

  it('fails without the TOC-digest annotation, or with a wrong one', async () => {
    expectProblem(await problems(blob, {}), 'digest of TOC JSON must be passed');
    expectProblem(await problems(blob, { [TOC_DIGEST_ANNOTATION]: sha256('other') }), `the TOC digest is ${tocDigest}`);
  });

  it('finds a corrupted chunk in a full check, not in a quick one', async () => {
    const bad = Buffer.from(blob);
    const target = parseToc(json, 't').entries.find((e) => e.name === 'app/text')!;
    bad[target.offset! + 30] = bad[target.offset! + 30]! ^ 0x55;
    assert.deepEqual(await problems(bad, annotations(), true), []);
    const found = await problems(bad);
    expectProblem(found, 'app/text');
  });

  it('reports TOC offsets that point outside the blob', async () => {
    const bad = tamperToc((entries) => {
      entries.find((e) => e.name === 'app/text')!.offset = blob.length * 2;
    });
    const opened = await openEstargz(access(bad), 't');
    expectProblem(await problems(bad, { [TOC_DIGEST_ANNOTATION]: opened.tocDigest }), 'at or past the TOC');
  });

  it('reports offsets that go backwards', async () => {
    const bad = tamperToc((entries) => {
      entries.find((e) => e.name === 'app/text')!.offset = 10;
    });
    const opened = await openEstargz(access(bad), 't');
    expectProblem(await problems(bad, { [TOC_DIGEST_ANNOTATION]: opened.tocDigest }), 'does not come after the previous chunk');
  });

  it('reports a hard link to nothing and chunks that do not tile their file', async () => {
    const bad = tamperToc((entries) => {
      entries.find((e) => e.name === 'app/bin/server-link')!.linkName = 'app/bin/gone';
      entries.find((e) => e.type === 'chunk' && e.name === 'app/4mib-plus-1')!.chunkOffset = 100;
    });
    const found = await problems(bad, { [TOC_DIGEST_ANNOTATION]: (await openEstargz(access(bad), 't')).tocDigest });
    expectProblem(found, 'hard link to app/bin/gone');
    expectProblem(found, 'app/4mib-plus-1: a chunk starts at file offset 100, expected 4194304');
  });

  it('refuses a TOC entry named ../../etc/passwd', async () => {
    const bad = tamperToc((entries) => {
      entries.push({ name: '../../etc/passwd', type: 'reg' });
    });
    expectProblem(await problems(bad), 'climbs out of the layer root');
  });

  it('refuses a TOC that declares 2 GB without reading or allocating it', async () => {
    const before = process.memoryUsage().rss;
    const bad = withToc(json, 2 * 1024 ** 3);
    expectProblem(await problems(bad), 'declares 2147483648 bytes, over the');
    assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'no allocation of the declared size');
  });

  it('reports a footer whose offset is not hexadecimal', async () => {
    const bad = Buffer.from(blob);
    bad.write('xyz', bad.length - FOOTER_SIZE + 16, 'latin1');
    const list = await problems(bad);
    expectProblem(list, 'annotated as eStargz but no eStargz footer');
    expectProblem(list, 'is not hexadecimal');
  });

  it('reports a footer pointing past the TOC, a TOC member that is not gzip, and a truncated blob', async () => {
    expectProblem(await problems(Buffer.concat([blob.subarray(0, blob.length - FOOTER_SIZE), footerBytes(blob.length)])), 'past its end');
    const notGzip = Buffer.concat([blob.subarray(0, tocOffset), Buffer.from('not gzip at all'), footerBytes(tocOffset)]);
    expectProblem(await problems(notGzip), 'is not valid gzip');
    expectProblem(await problems(blob.subarray(0, blob.length - 1000)), 'no eStargz footer');
  });

  it('treats a plain gzip layer without the annotation as not lazy, not broken', async () => {
    const plain = gzipSync(await makeTar('edge'));
    const report = await checkEstargzLayer(access(plain), layerOf(plain), 'layer 1/1');
    assert.deepEqual([report.format, report.lazy, report.problems], ['none', false, []]);
    assert.match(report.notes[0]!, /not eStargz .*pulled whole/);
  });

  it('opens with two reads: the footer and the TOC', async () => {
    const reads: Array<[number, number]> = [];
    await openEstargz({ size: blob.length, read: async (o, l) => (reads.push([o, l]), blob.subarray(o, o + l)) }, 't');
    assert.deepEqual(reads, [[blob.length - FOOTER_SIZE, FOOTER_SIZE], [tocOffset, blob.length - FOOTER_SIZE - tocOffset]]);
    await assertRejectsCode(openEstargz(access(Buffer.alloc(10)), 'tiny'), { code: 'INVALID_FORMAT', includes: ['tiny', 'too small'] });
  });
});
