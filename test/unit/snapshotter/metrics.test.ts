import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { parsePrometheusText, PROFILES, scrapeMetrics, summarizeMetrics } from '../../../src/core/snapshotter/index.js';
import { LazyImageError } from '../../../src/core/errors.js';

// Families as both daemons declare them (fs/metrics/common/metrics.go), with two layers.
function scrape(prefix: string, ops: { fetched: string; served: string; reads: string; registry: string }): string {
  const L1 = 'sha256:1111';
  const L2 = 'sha256:2222';
  return [
    `# TYPE ${prefix}_operation_duration_milliseconds histogram`,
    `${prefix}_operation_duration_milliseconds_bucket{layer="${L1}",operation_type="mount",le="8"} 0`,
    `${prefix}_operation_duration_milliseconds_bucket{layer="${L1}",operation_type="mount",le="16"} 1`,
    `${prefix}_operation_duration_milliseconds_bucket{layer="${L1}",operation_type="mount",le="+Inf"} 1`,
    `${prefix}_operation_duration_milliseconds_sum{layer="${L1}",operation_type="mount"} 12`,
    `${prefix}_operation_duration_milliseconds_count{layer="${L1}",operation_type="mount"} 1`,
    `${prefix}_operation_duration_milliseconds_bucket{layer="${L2}",operation_type="mount",le="8"} 0`,
    `${prefix}_operation_duration_milliseconds_bucket{layer="${L2}",operation_type="mount",le="16"} 0`,
    `${prefix}_operation_duration_milliseconds_bucket{layer="${L2}",operation_type="mount",le="+Inf"} 1`,
    `${prefix}_operation_duration_milliseconds_sum{layer="${L2}",operation_type="mount"} 20000`,
    `${prefix}_operation_duration_milliseconds_count{layer="${L2}",operation_type="mount"} 1`,
    `# TYPE ${prefix}_operation_duration_microseconds histogram`,
    `${prefix}_operation_duration_microseconds_bucket{layer="${L1}",operation_type="node_readdir",le="512"} 4`,
    `${prefix}_operation_duration_microseconds_bucket{layer="${L1}",operation_type="node_readdir",le="+Inf"} 4`,
    `${prefix}_operation_duration_microseconds_sum{layer="${L1}",operation_type="node_readdir"} 1000`,
    `${prefix}_operation_duration_microseconds_count{layer="${L1}",operation_type="node_readdir"} 4`,
    `# TYPE ${prefix}_operation_count counter`,
    `${prefix}_operation_count{layer="${L1}",operation_type="${ops.reads}"} 7`,
    `${prefix}_operation_count{layer="${L2}",operation_type="${ops.reads}"} 3`,
    `${prefix}_operation_count{layer="${L1}",operation_type="${ops.registry}"} 2`,
    `${prefix}_operation_count{layer="${L1}",operation_type="background_span_fetch_count"} 5`,
    `${prefix}_operation_count{layer="${L1}",operation_type="fuse_node_lookup_failure_count"} 1`,
    `${prefix}_operation_count{layer="${L1}",operation_type="fuse_file_read_failure_count"} 0`,
    `# TYPE ${prefix}_bytes_served gauge`,
    `${prefix}_bytes_served{layer="${L1}",operation_type="${ops.fetched}"} 100000`,
    `${prefix}_bytes_served{layer="${L2}",operation_type="${ops.fetched}"} 50000`,
    `${prefix}_bytes_served{layer="${L1}",operation_type="${ops.served}"} 4096`,
    '',
  ].join('\n');
}

describe('summarizeMetrics', () => {
  for (const profile of [PROFILES.soci, PROFILES.stargz]) {
    it(`sums ${profile.kind}'s on-demand figures, latencies and layers`, () => {
      const m = profile.metrics;
      const text = scrape(profile.metricsPrefix, { fetched: m.bytesFetched, served: m.bytesServed, reads: m.reads, registry: m.registryFetches });
      const s = summarizeMetrics(profile, parsePrometheusText(text));
      assert.equal(s.hasSnapshotterMetrics, true);
      assert.equal(s.bytesFetched, 150000);
      assert.equal(s.bytesServed, 4096);
      assert.equal(s.reads, 10);
      assert.equal(s.registryFetches, 2);
      assert.equal(s.mounts, 2);
      assert.deepEqual(s.backgroundFetches, profile.kind === 'soci' ? 5 : undefined);
      assert.deepEqual(s.fuseFailures, { fuse_node_lookup_failure_count: 1 });
      const mount = s.latencies.find((l) => l.operation === 'mount')!;
      assert.deepEqual({ count: mount.count, meanMs: mount.meanMs, p95Ms: mount.p95Ms }, { count: 2, meanMs: 10006, p95Ms: undefined });
      const readdir = s.latencies.find((l) => l.operation === 'node_readdir')!;
      assert.deepEqual({ count: readdir.count, meanMs: readdir.meanMs, p95Ms: readdir.p95Ms }, { count: 4, meanMs: 0.25, p95Ms: 0.512 });
      assert.deepEqual(s.layers, [
        { layer: 'sha256:1111', bytesFetched: 100000, bytesServed: 4096, reads: 7, registryFetches: 2 },
        { layer: 'sha256:2222', bytesFetched: 50000, bytesServed: 0, reads: 3, registryFetches: 0 },
      ]);
    });
  }

  it('says so when the daemon has no filesystem metrics yet', () => {
    const s = summarizeMetrics(PROFILES.soci, parsePrometheusText('# TYPE go_goroutines gauge\ngo_goroutines 12\n'));
    assert.equal(s.hasSnapshotterMetrics, false);
    assert.equal(s.bytesFetched, 0);
    assert.deepEqual(s.layers, []);
  });
});

describe('scrapeMetrics', () => {
  const servers: Server[] = [];
  after(() => servers.forEach((s) => s.close()));
  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler);
    servers.push(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return `127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('fails with TIMEOUT at its deadline when the endpoint never answers', async () => {
    const address = await serve(() => undefined);
    const started = Date.now();
    await assert.rejects(scrapeMetrics({ address, timeoutMs: 300 }), (e: unknown) => e instanceof LazyImageError && e.code === 'TIMEOUT');
    assert.ok(Date.now() - started < 3000);
  });

  it('fails with TIMEOUT when the body trickles past the deadline', async () => {
    const address = await serve((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('# x\n'), 50);
      res.on('close', () => clearInterval(timer));
    });
    await assert.rejects(scrapeMetrics({ address, timeoutMs: 400 }), (e: unknown) => e instanceof LazyImageError && e.code === 'TIMEOUT');
  });

  it('fails with UNREACHABLE on a refused connection and on an HTTP error', async () => {
    const refused = await serve(() => undefined);
    servers.pop()!.close();
    await new Promise((done) => setImmediate(done));
    await assert.rejects(scrapeMetrics({ address: refused, timeoutMs: 2000 }), (e: unknown) => e instanceof LazyImageError && e.code === 'UNREACHABLE' && /ECONNREFUSED/.test(e.message));
    const notFound = await serve((_req, res) => res.writeHead(404).end());
    await assert.rejects(scrapeMetrics({ address: notFound }), (e: unknown) => e instanceof LazyImageError && e.code === 'UNREACHABLE' && /HTTP 404/.test(e.message));
  });
});
