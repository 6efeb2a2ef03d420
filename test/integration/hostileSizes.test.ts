// Sizes that lie, against the CLI and the core path of the editor's read-only file system: a gzip
// bomb (10 MiB of gzip inflating to 10 GiB) as a layer, an eStargz TOC member that is a bomb, an
// eStargz chunk claiming 2 GiB, a zTOC whose checkpoint claims a 4 GiB span, and registry names
// carrying terminal escapes. Each hostile input must end in a clear error (or, for names, in
// harmless text), and its process may grow by less than 100 MB: every command runs in a process of
// its own under /usr/bin/time, whose peak RSS is compared with the same program doing nothing.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { footerBytes, serializeToc, TOC_TAR_NAME, type TocEntry } from '../../src/core/estargz/index.js';
import { buildSociIndexes } from '../../src/core/jobs/index.js';
import { MediaType, readBlob, sha256, writeImage, type OciLayoutStore } from '../../src/core/oci/index.js';
import { goManifest, INDEX_DIGEST_ANNOTATION, sociIndexManifest, decodeZtoc, encodeZtoc, decodeGzipZinfo } from '../../src/core/soci/index.js';
import { encodeGzipZinfo } from '../../src/core/soci/zinfo.js';
import { tarHeaderBlock } from '../../src/core/tar/index.js';
import { tempLayout } from '../helpers/images.js';
import { blob, configBlob, manifestBytes } from '../unit/helpers/oci.js';
import { run } from '../unit/helpers/proc.js';
import { CLI } from './fixtures/cli.js';
import { startFakeServer } from './fixtures/fakeServer.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** The most a process may grow by on hostile input. */
const MAX_GROWTH_KB = 100_000;
/** Enough for a loaded machine; a bomb inflated in full would take far longer. */
const TIMEOUT_MS = 60_000;
const READ_LAZY = join(__dirname, 'fixtures', 'readLazy.js');

/** gzip members of zeros: 64 MiB in about 64 KiB, then 1 MiB ones for the rest. */
const ZEROS_64M = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
const ZEROS_1M = gzipSync(Buffer.alloc(MiB), { level: 9 });
function zeros(bytes: number): Buffer[] {
  assert.equal(bytes % MiB, 0);
  return [...Array<Buffer>(Math.floor(bytes / (64 * MiB))).fill(ZEROS_64M), ...Array<Buffer>((bytes % (64 * MiB)) / MiB).fill(ZEROS_1M)];
}

interface Measured {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak RSS, kB. */
  peak: number;
}

/** Runs node on `args` under /usr/bin/time, which reports the peak RSS. */
async function measured(args: string[]): Promise<Measured> {
  const r = await run('/usr/bin/time', ['-f', 'PEAK_RSS_KB %M', process.execPath, ...args], { env: { ...process.env, DOCKER_CONFIG: '/nonexistent' } });
  const match = /PEAK_RSS_KB (\d+)\n$/.exec(r.stderr);
  assert.ok(match, `no peak RSS in ${JSON.stringify(r.stderr)}`);
  return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.slice(0, match.index), peak: Number(match[1]) };
}

/**
 * What growth is measured from: the same program loaded and doing nothing (`--version`, or the
 * reader with no arguments), or given, the same operation on a benign image.
 */
const baselines = new Map<string, number>();
async function baseline(args: string[]): Promise<number> {
  const key = args.join(' ');
  if (!baselines.has(key)) baselines.set(key, (await measured(args)).peak);
  return baselines.get(key)!;
}

/** Runs a hostile case; checks that it failed with the one line expected, in bounded memory. */
async function expectRefused(label: string, args: string[], message: RegExp, benign?: string[]): Promise<void> {
  const started = Date.now();
  const r = await measured(args);
  const growth = r.peak - await baseline(benign ?? (args[0] === CLI ? [CLI, '--version'] : [args[0]!]));
  // The CLI's report goes to stdout, its one-line error to stderr.
  const output = args[0] === CLI ? `${r.stdout}${r.stderr}` : r.stdout;
  console.log(`# ${label}: peak RSS +${(growth / 1024).toFixed(1)} MiB, ${Date.now() - started} ms: ${output.trim()}`);
  if (args[0] === CLI) assert.equal(r.code, 1, `${label}: ${r.stderr}`);
  assert.match(output, message, label);
  assert.ok(growth < MAX_GROWTH_KB, `${label}: grew by ${growth} kB`);
}

/** Stores an image of one gzip layer made of `parts`, tagged `tag`. */
async function storeLayer(store: OciLayoutStore, tag: string, parts: Buffer[]): Promise<void> {
  const layer = blob(Buffer.concat(parts), MediaType.OciLayerGzip);
  const config = configBlob([sha256(`not checked: ${tag}`)]);
  for (const b of [layer, config]) await store.putBlob(b.descriptor, async () => Readable.from([b.bytes]));
  await store.putManifest(manifestBytes({ config: config.descriptor, layers: [layer.descriptor] }), MediaType.OciManifest, tag);
}

/**
 * An eStargz layer with one regular file, `big`, of `size` bytes, whose data is the gzip member
 * `data` (its whole length a single chunk), then the TOC member and the footer. No toc.digest
 * annotation: read whole by `cat`, as eStargz by the editor and `verify`.
 */
function estargzLayer(size: number, data: Buffer[]): Buffer[] {
  const header = gzipSync(tarHeaderBlock({ name: 'big', size, mode: 0o644, typeflag: '0' }));
  const dataLength = data.reduce((n, b) => n + b.length, 0);
  const entries: TocEntry[] = [{ name: 'big', type: 'reg', size, mode: 0o644, offset: header.length, digest: `sha256:${'1'.repeat(64)}`, chunkDigest: `sha256:${'1'.repeat(64)}` }];
  const json = serializeToc({ version: 1, entries });
  const tocTar = Buffer.concat([tarHeaderBlock({ name: TOC_TAR_NAME, size: json.length, mode: 0, typeflag: '0' }), json, Buffer.alloc(((512 - (json.length % 512)) % 512) + 1024)]);
  return [header, ...data, gzipSync(tocTar), footerBytes(header.length + dataLength)];
}

describe('hostile sizes', () => {
  let store: OciLayoutStore;
  let out: OciLayoutStore;
  const layout = (tag: string): string => `oci:${store.dir}:${tag}`;

  before(async () => {
    store = await tempLayout('lazyimg-hostile-');
    out = await tempLayout('lazyimg-hostile-out-');
    await writeImage(store, [{ tar: await smallTar() }], { tag: 'small' });
    // A gzip bomb: a tar whose one file claims 10 GiB of zeros, and has them.
    await storeLayer(store, 'bomb', estargzLayer(10 * GiB, zeros(10 * GiB)));
    // The footer points at a bomb as the TOC member.
    const bomb = zeros(10 * GiB);
    await storeLayer(store, 'toc-bomb', [...bomb, footerBytes(0)]);
    // A chunk claiming 2 GiB whose member is big enough to hold it (17 MiB that do not compress)
    // but holds 217 MiB: refused by no limit, so inflated as a stream and found short.
    await storeLayer(store, 'claims-2g', estargzLayer(2 * GiB, [gzipSync(randomBytes(17 * MiB), { level: 1 }), ...zeros(200 * MiB)]));
  });

  after(async () => {
    await rm(store.dir, { recursive: true, force: true });
    await rm(out.dir, { recursive: true, force: true });
  });

  it('a gzip bomb: cat refuses it after a bounded inflate', { timeout: TIMEOUT_MS }, async () => {
    await expectRefused('cat bomb', [CLI, 'cat', layout('bomb'), '/big'], /layer 1\/1 \(sha256:[0-9a-f]{64}\): the gzip layer inflates past 1\.\d+ GiB, more than 128 times its [\d.]+ MiB: refused as a likely compression bomb/);
  });

  it('a gzip bomb: the editor\'s read refuses the file, and a range of it before inflating', { timeout: TIMEOUT_MS }, async () => {
    await expectRefused('editor read bomb', [READ_LAZY, store.dir, 'bomb', 'estargz', 'big'], /^error INVALID_ARGUMENT: .*\/big is 10737418240 bytes; reading more than 268435456 at once is refused/);
    await expectRefused('editor read bomb range', [READ_LAZY, store.dir, 'bomb', 'estargz', 'big', '0', '4096'], /^error INVALID_FORMAT: .*the gzip member at byte \d+ \(\/big\) is [\d.]+ MiB but its chunks claim 10\.0 GiB \(10737418240 bytes\), more than 128 times over: refused as a likely gzip bomb/);
  });

  it('a gzip bomb: verify reports the member, without inflating it', { timeout: TIMEOUT_MS }, async () => {
    await expectRefused('verify bomb', [CLI, 'verify', layout('bomb')], /the gzip member at byte \d+ \(big\) is [\d.]+ MiB but its chunks claim 10\.0 GiB .*refused as a likely gzip bomb/);
  });

  it('a gzip bomb: index stops building its zTOC after a bounded inflate', { timeout: TIMEOUT_MS }, async () => {
    // Indexing starts its zTOC threads whatever the layer: growth is measured from indexing a small one.
    const benign = [CLI, 'index', '--min-layer-size', '0', layout('small'), `oci:${out.dir}:small`];
    await expectRefused('index bomb', [CLI, 'index', '--min-layer-size', '0', layout('bomb'), `oci:${out.dir}:bomb`], /layer 1\/1 \(sha256:[0-9a-f]{64}\): the layer inflates past 1\.\d+ GiB, more than 128 times its [\d.]+ MiB: refused as a likely gzip bomb/, benign);
  });

  it('an eStargz TOC member that is a gzip bomb: the editor stops at its first block', { timeout: TIMEOUT_MS }, async () => {
    await expectRefused('editor open TOC bomb', [READ_LAZY, store.dir, 'toc-bomb', 'estargz', 'big'], /^error INVALID_FORMAT: .*: the TOC member holds no tar entry/);
  });

  it('an eStargz chunk claiming 2 GiB: read and verify stream it and find it wrong', { timeout: TIMEOUT_MS }, async () => {
    await expectRefused('editor read 2 GiB chunk', [READ_LAZY, store.dir, 'claims-2g', 'estargz', 'big', '0', '4096'], /^error DIGEST_MISMATCH: .*the chunk of \/big at 0 does not match its digest sha256:1{64}/);
    await expectRefused('verify 2 GiB chunk', [CLI, 'verify', layout('claims-2g')], /big at file offset 0: the member holds 227540992 of the chunk's 2147483648 bytes/);
  });

  describe('a zTOC whose checkpoint claims a 4 GiB span', () => {
    before(async () => {
      await writeImage(store, [{ tar: await smallTar() }], { tag: 'src', gzipLevel: 6 });
      const result = await buildSociIndexes(store, 'src', store, 'soci', { spanSize: 64 * 1024, minLayerSize: 0 });
      const image = await store.getManifest(result.indexes[0]!.manifest);
      const index = await store.getManifest(result.indexes[0]!.index);
      if (image.kind !== 'manifest' || index.kind !== 'manifest') throw new Error('not a manifest');
      const ztoc = decodeZtoc(await readBlob(store, index.manifest.layers[0]!, 1 << 30), 'zTOC');
      // Every checkpoint after the first moves 4 GiB on, and a file moves to the end of span 0.
      const zinfo = decodeGzipZinfo(ztoc.checkpoints, 'zTOC');
      assert.ok(zinfo.checkpoints.length > 2);
      const checkpoints = zinfo.checkpoints.map((c, i) => (i === 0 ? c : { ...c, out: c.out + 4 * GiB }));
      const entries = ztoc.entries.map((e) => (e.name === 'file-1' ? { ...e, uncompressedOffset: 4 * GiB - 100, uncompressedSize: 50 } : e));
      const bytes = encodeZtoc({ ...ztoc, entries, uncompressedArchiveSize: ztoc.uncompressedArchiveSize + 4 * GiB, checkpoints: encodeGzipZinfo({ ...zinfo, checkpoints }) });
      const hostile = { mediaType: 'application/octet-stream', digest: sha256(bytes), size: bytes.length };
      await store.putBlob(hostile, async () => Readable.from([bytes]));
      const layer = image.manifest.layers[0]!;
      const sociIndex = await store.putManifest(sociIndexManifest('v2', [{ ztoc: hostile, layer, spanSize: 64 * 1024 }]), MediaType.OciManifest);
      await store.putManifest(goManifest({ ...image.manifest, annotations: { [INDEX_DIGEST_ANNOTATION]: sociIndex.digest } }), MediaType.OciManifest, 'span-4g');
    });

    const refused = /the zTOC has span 0 of 429\d{7} bytes \(\d+ compressed\), more than 16842752 for 65536-byte spans/;

    it('cat and the editor refuse it when opening the zTOC', { timeout: TIMEOUT_MS }, async () => {
      await expectRefused('cat 4 GiB span', [CLI, 'cat', layout('span-4g'), '/file-1'], refused);
      await expectRefused('editor read 4 GiB span', [READ_LAZY, store.dir, 'span-4g', 'soci', 'file-1'], refused);
    });

    it('verify reports it', { timeout: TIMEOUT_MS }, async () => {
      await expectRefused('verify 4 GiB span', [CLI, 'verify', layout('span-4g')], refused);
    });
  });

  it('registry names with terminal escapes: ls shows them without the escapes, --json exactly', { timeout: TIMEOUT_MS }, async () => {
    const repositories = ['\u001b[31mred\u001b[0m/app', 'plain/app'];
    const tags = ['\u001b]8;;http://evil.example\u0007v1\u001b]8;;\u0007', '\u001b[2J\u001b[Hcleared', 'line\nbreak'];
    const server = await startFakeServer((req, res) => {
      const json = (body: unknown): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.url === '/v2/') json({});
      else if (req.url?.startsWith('/v2/_catalog')) json({ repositories });
      else if (req.url?.startsWith('/v2/plain/app/tags/list')) json({ name: 'plain/app', tags });
      else res.writeHead(404).end();
    });
    try {
      const ls = async (...args: string[]): Promise<Measured> => measured([CLI, '--insecure', server.host, 'ls', ...args]);
      const repos = await ls(server.host);
      assert.equal(repos.code, 0, repos.stderr);
      assert.equal(repos.stdout, 'red/app\nplain/app\n');
      const shown = await ls(`${server.host}/plain/app`);
      assert.equal(shown.code, 0, shown.stderr);
      assert.doesNotMatch(shown.stdout, /\u001b/);
      assert.equal(shown.stdout, 'v1\ncleared\nline?break\n');
      const json = await ls('--json', `${server.host}/plain/app`);
      assert.deepEqual(JSON.parse(json.stdout), tags);
    } finally {
      await server.close();
    }
  });
});

/** A gzip-friendly tar of 32 files of 16 KiB (text that compresses a little), in several spans. */
async function smallTar(): Promise<Buffer> {
  const blocks: Buffer[] = [];
  for (let i = 0; i < 32; i++) {
    const content = Buffer.from(randomBytes(8 * 1024).toString('hex'));
    blocks.push(tarHeaderBlock({ name: `file-${i}`, size: content.length, mode: 0o644, typeflag: '0' }), content);
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}
