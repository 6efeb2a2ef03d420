import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parsePrometheusText, PROFILES, scrapeMetrics, summarizeMetrics } from '../../../src/core/snapshotter/index.js';
import { LazyImageError } from '../../../src/core/errors.js';

const FIXTURES = resolve(__dirname, '..', '..', '..', '..', 'test', 'unit', 'snapshotter', 'fixtures');

// Real scrapes, taken after a lazy pull of the demo image (3 layers, 12 MiB) through containerd
// v2.2.9 and every file of it read through the FUSE mounts (see specs/snapshotters.md).
function fixture(name: string): string {
  return readFileSync(resolve(FIXTURES, name), 'utf8');
}

describe('summarizeMetrics on real scrapes', () => {
  it('soci v0.16.1: whole layers fetched in 14 registry fetches, every timed operation', () => {
    const s = summarizeMetrics(PROFILES.soci, parsePrometheusText(fixture('soci-v0.16.1-lazy-pull.metrics.txt')));
    assert.equal(s.hasSnapshotterMetrics, true);
    assert.deepEqual([s.bytesFetched, s.layerBytes, s.bytesServed, s.reads, s.registryFetches, s.mounts], [12588850, 12588850, 12643579, 141, 14, 3]);
    assert.deepEqual([s.backgroundFetches, s.backgroundFetchFailures, s.fuseFailures], [0, 0, {}]);
    const big = s.layers.find((l) => l.layer.startsWith('sha256:55c228e8'))!;
    assert.deepEqual([big.size, big.fetched, big.served, big.reads, big.registryFetches], [12587102, 12587102, 12582974, 97, 12]);
    assert.equal(s.layers.length, 3);
    const ops = Object.fromEntries(s.latencies.map((l) => [l.operation, l]));
    assert.deepEqual(Object.keys(ops).sort(), ['blob_redirect', 'fuse_mount', 'init_metadata_store', 'mount', 'node_readdir', 'remote_registry_get', 'soci_index_fetch', 'synchronous_read', 'ztoc_unmarshal']);
    assert.equal(ops.synchronous_read!.count, 141);
    assert.equal(ops.synchronous_read!.p95PastBuckets, true); // past the microsecond histogram's 1024 µs
    assert.equal(ops.synchronous_read!.p95Ms, 1.024);
    assert.ok(Math.abs(ops.remote_registry_get!.meanMs * ops.remote_registry_get!.count - 52.08) < 1);
  });

  it('stargz v0.19.1: fetched bytes from the layer counters, not the inflated chunk gauge', () => {
    const s = summarizeMetrics(PROFILES.stargz, parsePrometheusText(fixture('stargz-v0.19.1-lazy-pull.metrics.txt')));
    assert.deepEqual([s.bytesFetched, s.layerBytes, s.bytesServed, s.reads, s.registryFetches, s.mounts], [12597788, 12597788, 12643579, 141, 55, 3]);
    assert.equal(s.backgroundFetches, undefined);
    assert.deepEqual(s.layers.map((l) => [l.layer.slice(7, 14), l.size, l.fetched, l.reads]), [['125e19f', 826, 826, 2], ['af16541', 12587819, 12587819, 97], ['f20e04e', 9143, 9143, 42]]);
    assert.deepEqual(s.latencies.map((l) => l.operation).sort(), ['mount', 'node_readdir', 'read_on_demand', 'remote_registry_get', 'stargz_footer_get', 'stargz_header_get', 'stargz_toc_get', 'stargz_toc_json_deserialize']);
  });

  it('an idle daemon has no filesystem metrics yet', () => {
    const s = summarizeMetrics(PROFILES.soci, parsePrometheusText(fixture('soci-v0.16.1-idle.metrics.txt')));
    assert.deepEqual([s.hasSnapshotterMetrics, s.bytesFetched, s.layers, s.latencies], [false, 0, [], []]);
  });

  it('counts FUSE failures, background fetches and repeated mounts of one layer', () => {
    const text = [
      '# TYPE soci_fs_operation_count counter',
      'soci_fs_operation_count{layer="sha256:1",operation_type="background_span_fetch_count"} 5',
      'soci_fs_operation_count{layer="sha256:1",operation_type="background_span_fetch_failure_count"} 1',
      'soci_fs_operation_count{layer="sha256:1",operation_type="fuse_node_lookup_failure_count"} 2',
      'soci_fs_operation_count{layer="sha256:1",operation_type="fuse_file_read_failure_count"} 0',
      '# TYPE soci_fs_layer_fetched_size_bytes counter',
      'soci_fs_layer_fetched_size_bytes{digest="sha256:1",mountpoint="/a"} 10',
      'soci_fs_layer_fetched_size_bytes{digest="sha256:1",mountpoint="/b"} 30',
      '# TYPE soci_fs_layer_size_bytes counter',
      'soci_fs_layer_size_bytes{digest="sha256:1",mountpoint="/a"} 100',
      'soci_fs_layer_size_bytes{digest="sha256:1",mountpoint="/b"} 100',
    ].join('\n');
    const s = summarizeMetrics(PROFILES.soci, parsePrometheusText(text));
    assert.deepEqual([s.backgroundFetches, s.backgroundFetchFailures, s.fuseFailures], [5, 1, { fuse_node_lookup_failure_count: 2 }]);
    assert.deepEqual([s.bytesFetched, s.layerBytes], [40, 100]);
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
    await new Promise((done) => servers.pop()!.close(done));
    await assert.rejects(scrapeMetrics({ address: refused, timeoutMs: 2000 }), (e: unknown) => e instanceof LazyImageError && e.code === 'UNREACHABLE' && /ECONNREFUSED/.test(e.message));
    const notFound = await serve((_req, res) => res.writeHead(404).end());
    await assert.rejects(scrapeMetrics({ address: notFound }), (e: unknown) => e instanceof LazyImageError && e.code === 'UNREACHABLE' && /HTTP 404/.test(e.message));
  });
});
