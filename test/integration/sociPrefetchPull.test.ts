// SOCI prefetch, mounted for real: the Debian image indexed by `lazyimg index`, with and without
// `--prefetch-file` for what a Python start reads, pulled with `lazyimg pull` through
// soci-snapshotter-grpc v0.16.1 (started by our own control code behind containerd v2.2.9, with
// `[prefetch] enable = true` or without) and a proxy that records each request for the layer and
// counts the bytes. Without the artifact the mount asks for a 2-byte probe and the gzip header
// only, and reading the files fetches their spans on demand. With it, the mount also asks for
// exactly the artifact's spans, one request each (the daemon's per-layer fetched bytes and registry
// GETs agree), and reading the files asks for nothing more. With prefetch off the artifact is
// ignored. Each case gets a fresh stack: a daemon that has mounted the layer would not mount it anew.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PrefetchResult } from '../../src/core/jobs/index.js';
import { decodeZtoc, PREFETCH_MEDIA_TYPE, spanTable, type SpanTable } from '../../src/core/soci/index.js';
import { PROFILES, readMetrics, type MetricsSummary, type PullReport } from '../../src/core/snapshotter/index.js';
import { requireCachedTool, requireTool } from '../helpers/tools.js';
import { runCli } from './fixtures/cli.js';
import type { FakeServer } from './fixtures/fakeServer.js';
import { startRegistry, type RegistryFixture } from './fixtures/registry.js';
import { startRegistryProxy } from './fixtures/registryProxy.js';
import { startSnapshotters, type SnapshotterStack } from './fixtures/snapshotters.js';

const BASE = join(process.env.LAZYIMG_CACHE ?? join(homedir(), '.cache', 'lazy-images'), 'base-bookworm', 'layout');
const REPO = 'lazy/debian';
const MANIFEST_TYPES = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';
/** The interpreter, its libraries and the modules it imports at start. */
const FILES = [
  '/usr/bin/python3.11', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libm.so.6', '/usr/lib/x86_64-linux-gnu/libz.so.1.2.13',
  '/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10', '/usr/lib/python3.11/os.py', '/usr/lib/python3.11/site.py', '/usr/lib/python3.11/encodings/__init__.py',
  '/usr/lib/python3.11/encodings/utf_8.py', '/usr/lib/python3.11/codecs.py', '/usr/lib/python3.11/abc.py', '/usr/lib/python3.11/stat.py',
  '/usr/lib/python3.11/posixpath.py', '/usr/lib/python3.11/genericpath.py', '/usr/lib/python3.11/_collections_abc.py', '/usr/lib/python3.11/_sitebuiltins.py',
];

interface Case {
  tag: string;
  prefetchEnabled: boolean;
}

interface Measured {
  /** Bytes of the layer blob the proxy sent while the image was pulled and mounted, and then while the files were read. */
  atMount: number;
  onRead: number;
  /** The layer blob's requests (method and Range), sorted, likewise. */
  mountRanges: string[];
  readRanges: string[];
  metricsAtMount: MetricsSummary;
  metricsAfterReads: MetricsSummary;
  /** The files as read through the FUSE mount: sha256 by path. */
  contents: Map<string, string>;
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(2)} MiB`;

/** The length of the union of `[start, end)` intervals. */
function union(intervals: Array<[number, number]>): number {
  let total = 0;
  let reached = -Infinity;
  for (const [start, end] of [...intervals].sort((a, b) => a[0] - b[0])) {
    total += Math.max(0, end - Math.max(start, reached));
    reached = Math.max(reached, end);
  }
  return total;
}

describe('SOCI prefetch through soci-snapshotter-grpc: the listed files\' spans are fetched at mount, and reading them fetches nothing more', { timeout: 900_000 }, () => {
  let registry: RegistryFixture;
  let proxy: FakeServer;
  let layer: { digest: string; size: number };
  let prefetch: PrefetchResult;
  let table: SpanTable;
  /** The artifact's spans and their compressed bytes: what the mount should fetch. */
  let spanIds: number[];
  let spanBytes: number;
  /** The gzip header before the first span, which the daemon fetches and parses at every mount. */
  let headerBytes: number;
  /** The bytes of the layer the header and those spans cover: neighbouring spans can share a byte, which the daemon counts once. */
  let unionBytes: number;
  /** The requests for those spans, and the two the daemon makes at every mount: a 2-byte probe of the blob, then the gzip header. */
  let spanRanges: string[];
  let mountProbes: string[];
  const fetched = new Map<string, number>();
  /** The Range header of each request for the layer blob, in order. */
  const ranges: string[] = [];
  const blobPath = (): string => `/v2/${REPO}/blobs/${layer.digest}`;
  const results = new Map<string, Measured>();

  async function lazyimg(...args: string[]): Promise<string> {
    const r = await runCli(args);
    assert.equal(r.code, 0, `lazyimg ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  async function get(path: string): Promise<Buffer> {
    const res = await fetch(`http://${registry.host}/v2/${REPO}/${path}`, { headers: { accept: MANIFEST_TYPES } });
    assert.equal(res.status, 200, `GET ${path}`);
    return Buffer.from(await res.arrayBuffer());
  }

  before(async () => {
    if (!existsSync(join(BASE, 'index.json'))) throw new Error(`The base image is missing at ${BASE}: run test/integration/fixtures/baseImage.sh (.ci/run does)`);
    registry = await startRegistry();
    proxy = await startRegistryProxy(registry.host, {
      onResponseBytes: (url, n) => fetched.set(url.pathname, (fetched.get(url.pathname) ?? 0) + n),
      intercept: (url, req) => {
        if (layer && url.pathname === blobPath()) ranges.push(`${req.method} ${req.headers.range ?? 'whole'}`);
        return false;
      },
    });
    await lazyimg('--insecure', registry.host, 'copy', `oci:${BASE}:bookworm`, `${registry.host}/${REPO}:src`);
    const out = JSON.parse(await lazyimg('--insecure', registry.host, 'index', `${registry.host}/${REPO}:src`, `${registry.host}/${REPO}:prefetch`, ...FILES.flatMap((f) => ['--prefetch-file', f]), '--json')) as {
      indexes: Array<{ index: { digest: string }; layers: Array<{ digest: string; size: number }>; prefetch: PrefetchResult }>;
    };
    await lazyimg('--insecure', registry.host, 'index', `${registry.host}/${REPO}:src`, `${registry.host}/${REPO}:plain`);
    prefetch = out.indexes[0]!.prefetch;
    layer = out.indexes[0]!.layers[0]!;
    assert.deepEqual(prefetch.missing, [], 'every file is in the image');
    assert.equal(prefetch.artifacts.length, 1);
    // The zTOC as the daemon gets it, for the spans' compressed ranges.
    const index = JSON.parse((await get(`manifests/${out.indexes[0]!.index.digest}`)).toString()) as { layers: Array<{ mediaType: string; digest: string }> };
    assert.deepEqual(index.layers.map((l) => l.mediaType), ['application/octet-stream', PREFETCH_MEDIA_TYPE]);
    table = spanTable(decodeZtoc(await get(`blobs/${index.layers[0]!.digest}`), 'zTOC'), layer.size, 'zTOC');
    spanIds = prefetch.artifacts[0]!.spans.flatMap((r) => Array.from({ length: r.endSpan - r.startSpan + 1 }, (_, i) => r.startSpan + i));
    spanBytes = spanIds.reduce((n, id) => n + table.spans[id]!.end - table.spans[id]!.start, 0);
    headerBytes = table.spans[0]!.checkpoint!.in;
    unionBytes = union([[0, headerBytes], ...spanIds.map((id): [number, number] => [table.spans[id]!.start, table.spans[id]!.end])]);
    spanRanges = spanIds.map((id) => `GET bytes=${table.spans[id]!.start}-${table.spans[id]!.end - 1}`).sort();
    mountProbes = ['GET bytes=0-1', `GET bytes=0-${headerBytes - 1}`];
    assert.ok(spanIds.length >= 2 && spanIds.length < table.spans.length / 4, `${spanIds.length} of ${table.spans.length} spans to prefetch`);
  });

  after(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  /** Pulls `tag` on a fresh stack, then reads every listed file through the layer's FUSE mount. */
  async function measure(c: Case): Promise<Measured> {
    // Header timeout raised from soci's 3 s: a request it retries would be counted twice below.
    const http = ['[http]', 'ResponseHeaderTimeoutMsec = 60000'];
    const stack: SnapshotterStack = await startSnapshotters({ proxies: ['soci'], daemonConfig: { soci: [...http, ...(c.prefetchEnabled ? ['[prefetch]', 'enable = true'] : [])] } });
    try {
      const daemon = stack.daemons.soci!;
      const metrics = (): Promise<MetricsSummary> => readMetrics(PROFILES.soci, { address: daemon.metricsAddress });
      fetched.clear();
      const r = await runCli([
        '--insecure', proxy.host, 'pull', `${proxy.host}/${REPO}:${c.tag}`, '--snapshotter', 'soci', '--containerd', stack.address, '--namespace', stack.namespace,
        '--log', daemon.logFile, '--daemon-root', daemon.root, '--metrics', daemon.metricsAddress, '--plain-http', '--require-lazy', '--json',
        '--ctr', requireCachedTool('containerd-v2.2.9/ctr'), '--ctr-remote', requireTool('ctr-remote', 'apt-get install stargz-snapshotter'),
      ]);
      const report = JSON.parse(r.stdout) as PullReport;
      assert.equal(r.code, 0, `lazyimg pull --require-lazy: ${r.stderr}`);
      assert.equal(report.layers[0]?.outcome, 'remote');
      const mountPoint = report.layers[0]!.mountPoint!;
      const atMount = fetched.get(blobPath()) ?? 0;
      const mountRanges = ranges.splice(0).sort();
      const metricsAtMount = await metrics();
      const log = daemon.log();
      const loaded = /Successfully loaded prefetch artifact with (\d+) span ranges/.exec(log);
      if (c.tag === 'prefetch' && c.prefetchEnabled) assert.equal(Number(loaded?.[1]), prefetch.artifacts[0]!.spans.length, 'the daemon logs the artifact it loaded');
      else assert.equal(loaded, null, 'no artifact loaded');
      fetched.clear();
      const contents = new Map<string, string>();
      for (const f of prefetch.files) contents.set(f.path, createHash('sha256').update(await readFile(join(mountPoint, f.name))).digest('hex'));
      return { atMount, onRead: fetched.get(blobPath()) ?? 0, mountRanges, readRanges: ranges.splice(0).sort(), metricsAtMount, metricsAfterReads: await metrics(), contents };
    } finally {
      await stack.stop();
    }
  }

  const figures = (m: MetricsSummary): { fetched: number; gets: number; onDemand: number } => ({
    fetched: m.layers.find((l) => l.layer === layer.digest)?.fetched ?? 0,
    gets: m.latencies.find((l) => l.operation === 'remote_registry_get')?.count ?? 0,
    onDemand: m.layers.find((l) => l.layer === layer.digest)?.registryFetches ?? 0,
  });

  it('[prefetch] enable = true, the index without an artifact: at mount only the probe and the gzip header; the files\' spans fetched on demand', async (t) => {
    const m = await measure({ tag: 'plain', prefetchEnabled: true });
    results.set('plain', m);
    const [mount, reads] = [figures(m.metricsAtMount), figures(m.metricsAfterReads)];
    assert.deepEqual(m.mountRanges, [...mountProbes].sort());
    assert.equal(mount.fetched, headerBytes, 'the daemon\'s fetched bytes for the layer at mount: its gzip header');
    assert.equal(mount.gets, 1);
    assert.deepEqual(m.readRanges, spanRanges, 'the reads fetch, one request each, the spans the artifact names, and only those');
    assert.equal(reads.onDemand, spanIds.length, 'one on-demand registry fetch per span');
    assert.equal(reads.fetched, unionBytes);
    assert.equal(m.onRead, spanBytes);
    t.diagnostic(`without an artifact: at mount ${m.atMount} bytes of the layer (${m.mountRanges.join(', ')}); reading the ${prefetch.files.length} files: ${mib(m.onRead)} in ${reads.onDemand} on-demand fetches`);
  });

  it('[prefetch] enable = true, the index with the artifact: the mount also fetches exactly its spans, and the reads nothing', async (t) => {
    const m = await measure({ tag: 'prefetch', prefetchEnabled: true });
    const [mount, reads] = [figures(m.metricsAtMount), figures(m.metricsAfterReads)];
    assert.deepEqual(m.mountRanges, [...mountProbes, ...spanRanges].sort(), 'the probe, the header, and one request per prefetched span');
    assert.equal(m.atMount - results.get('plain')!.atMount, spanBytes, 'the spans\' bytes more than without the artifact');
    assert.equal(mount.fetched, unionBytes, `the daemon's fetched bytes for the layer at mount: the header and the spans`);
    assert.equal(mount.gets, spanIds.length + 1, 'one registry GET for the header, one per prefetched span');
    assert.equal(mount.onDemand, 0);
    assert.deepEqual(m.readRanges, [], 'nothing requested while the files are read');
    assert.equal(m.onRead, 0);
    assert.equal(reads.onDemand, 0, 'no on-demand registry fetch');
    assert.equal(reads.fetched, mount.fetched, 'the daemon fetched nothing more');
    assert.equal(reads.gets, mount.gets);
    assert.ok(m.metricsAfterReads.bytesServed > 0 && m.metricsAfterReads.reads > 0, 'the files were read through the mount');
    assert.deepEqual(m.contents, results.get('plain')!.contents, 'the same contents as fetched on demand');
    t.diagnostic(`with the artifact: ${prefetch.files.length} files in ${spanIds.length} of ${table.spans.length} spans; at mount ${mib(m.atMount)} of the ${mib(layer.size)} layer `
      + `(${mount.gets} registry GETs); reading the files: ${m.onRead} bytes fetched, ${reads.onDemand} on-demand fetches, ${mib(m.metricsAfterReads.bytesServed)} served`);
  });

  it('the index with the artifact, [prefetch] left off (the default): the artifact is ignored', async (t) => {
    const m = await measure({ tag: 'prefetch', prefetchEnabled: false });
    assert.deepEqual(m.mountRanges, [...mountProbes].sort());
    assert.equal(figures(m.metricsAtMount).fetched, headerBytes);
    assert.deepEqual(m.readRanges, spanRanges);
    assert.equal(figures(m.metricsAfterReads).onDemand, spanIds.length);
    t.diagnostic(`prefetch off: at mount ${m.atMount} bytes; reading the files: ${mib(m.onRead)}`);
  });
});
