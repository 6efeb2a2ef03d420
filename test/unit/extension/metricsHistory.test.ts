// MetricsHistory, the dashboard's series, fed with real scrapes of both daemons (the fixtures of
// metrics.test.ts, and a stargz one taken with its background fetch on): counters as they are,
// latencies as the mean since the sample before, gaps while the daemon is down, a bounded length.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { PROFILES, parsePrometheusText, summarizeMetrics, type MetricsSummary, type SnapshotterKind } from '../../../src/core/snapshotter/index.js';
import { MAX_SAMPLES, MetricsHistory } from '../../../src/extension/snapshotters/MetricsHistory.js';

const FIXTURES = resolve(__dirname, '..', '..', '..', '..', 'test', 'unit', 'snapshotter', 'fixtures');

function scrape(kind: SnapshotterKind, name: string): MetricsSummary {
  return summarizeMetrics(PROFILES[kind], parsePrometheusText(readFileSync(resolve(FIXTURES, name), 'utf8')));
}

describe('MetricsHistory', () => {
  it('soci: an idle daemon, then a lazy pull: bytes and fetches as counted, latencies over the interval, then a gap', () => {
    const h = new MetricsHistory(PROFILES.soci.metrics);
    const pulled = scrape('soci', 'soci-v0.16.1-lazy-pull.metrics.txt');
    h.add(100, scrape('soci', 'soci-v0.16.1-idle.metrics.txt'));
    h.add(105, pulled);
    h.add(110, pulled);
    h.add(115, undefined);
    const s = h.series;
    assert.deepEqual(s.t, [100, 105, 110, 115]);
    assert.deepEqual(s.fetched, [0, 12588850, 12588850, null]);
    assert.deepEqual(s.registryFetches, [0, 14, 14, null]);
    assert.deepEqual(s.background, [0, 0, 0, null]);
    // Every registry GET of the pull fell in the second interval, none in the third.
    const get = pulled.latencies.find((l) => l.operation === 'remote_registry_get')!;
    assert.equal(s.registryMs[0], null);
    assert.ok(Math.abs(s.registryMs[1]! - get.meanMs) < 1e-9);
    assert.equal(s.registryMs[2], null);
    assert.deepEqual(Object.keys(s.fuseMs), ['synchronous_read', 'node_readdir']);
    assert.ok(s.fuseMs.synchronous_read![1]! > 0);
    assert.deepEqual([s.fuseMs.synchronous_read![2], s.fuseMs.synchronous_read![3]], [null, null]);
  });

  it('stargz: background downloads counted from their timed operation', () => {
    const h = new MetricsHistory(PROFILES.stargz.metrics);
    h.add(1, scrape('stargz', 'stargz-v0.19.1-lazy-pull.metrics.txt'));
    h.add(2, scrape('stargz', 'stargz-v0.19.1-background-fetch.metrics.txt'));
    assert.deepEqual(h.series.background, [0, 62]);
    assert.deepEqual(h.series.fetched, [12597788, 12597788]);
  });

  it('keeps the last samples only, and takes back a saved series only when it has the shape', () => {
    const h = new MetricsHistory(PROFILES.soci.metrics);
    const idle = scrape('soci', 'soci-v0.16.1-idle.metrics.txt');
    for (let t = 0; t < MAX_SAMPLES + 40; t++) h.add(t, idle);
    assert.equal(h.series.t.length, MAX_SAMPLES);
    assert.equal(h.series.t[0], 40);
    assert.ok(Object.values(h.series.fuseMs).every((c) => c.length === MAX_SAMPLES));

    const saved: unknown = JSON.parse(JSON.stringify(h.series));
    assert.deepEqual(new MetricsHistory(PROFILES.soci.metrics, saved).series, saved);
    // stargz times other FUSE operations: a soci series is not its history.
    assert.deepEqual(new MetricsHistory(PROFILES.stargz.metrics, saved).series.t, []);
    const broken = { ...(saved as object), fetched: ['<img src=x>'] };
    assert.deepEqual(new MetricsHistory(PROFILES.soci.metrics, broken).series.t, []);
  });
});
