// The per-layer decisions `lazyimg pull` reads from the daemons' logs, on real log lines of
// soci-snapshotter v0.16.1 and containerd-stargz-grpc v0.19.1 behind containerd v2.2.9
// (taken from test/integration/pullReport.test.ts), the chain IDs that key the snapshots, and
// which live FUSE mount is a layer's when the log does not say.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { chainIds, ctrMajor, layerDecision, layerMount, parseLogEntries } from '../../../src/core/snapshotter/index.js';

const FIXTURES = resolve(__dirname, '..', '..', '..', '..', 'test', 'unit', 'snapshotter', 'fixtures');
const log = (name: string): ReturnType<typeof parseLogEntries> => parseLogEntries(readFileSync(resolve(FIXTURES, name), 'utf8'));

describe('chainIds', () => {
  it('is the diff ID for the base layer, then sha256 of "<parent chain> <diff ID>"', () => {
    const a = `sha256:${'a'.repeat(64)}`;
    const b = `sha256:${'b'.repeat(64)}`;
    assert.deepEqual(chainIds([a, b]), [a, `sha256:${createHash('sha256').update(`${a} ${b}`).digest('hex')}`]);
    assert.deepEqual(chainIds([]), []);
  });
});

describe('ctrMajor', () => {
  it('reads the major version from what ctr --version prints, Debian\'s and a v2 build alike', () => {
    assert.equal(ctrMajor('ctr github.com/containerd/containerd 1.6.20~ds1\n'), 1);
    assert.equal(ctrMajor('ctr github.com/containerd/containerd/v2 2.2.9+unknown\n'), 2);
    assert.equal(ctrMajor('ctr github.com/containerd/containerd v1.7.27\n'), 1);
    assert.equal(ctrMajor('ctr: unknown\n'), undefined);
  });
});

describe('layerDecision', () => {
  const cases = [
    {
      name: 'soci, layer under the minimum size: no zTOC, fetched whole as a local snapshot',
      file: 'soci-v0.16.1-no-ztoc.log.jsonl',
      chainId: 'sha256:f105a33c50b1e1fdaab60ee5a2afb35d5f5ee4f4a8eaad62ed6dfded10866936',
      digest: 'sha256:e6655e275c6454e9986cc5943ee7aaaedfcde914aa1fd8a670d361ce218113dc',
      want: { prepared: false, local: true, mountPoint: undefined, reason: /no ztoc for layer/ },
    },
    {
      name: 'soci, the next layer (its parent is the one above): mounted remotely, not blamed for the parent',
      file: 'soci-v0.16.1-no-ztoc.log.jsonl',
      chainId: 'sha256:3e94e64cf510fba6938d2138ad92c2a92783b769fc104bc6501f288e71727aac',
      digest: 'sha256:55c228e8319232bd85c4d8e69d12c8e31697e79929be921826c3e9caf51848b2',
      want: { prepared: true, local: false, mountPoint: '/tmp/lazyimg-snap-TzrK19/soci-root/snapshotter/snapshots/8/fs', reason: undefined },
    },
    {
      name: 'soci, SOCI index deleted: deferred to the container runtime',
      file: 'soci-v0.16.1-no-index.log.jsonl',
      chainId: 'sha256:f105a33c50b1e1fdaab60ee5a2afb35d5f5ee4f4a8eaad62ed6dfded10866936',
      digest: 'sha256:e6655e275c6454e9986cc5943ee7aaaedfcde914aa1fd8a670d361ce218113dc',
      want: { prepared: false, local: false, mountPoint: undefined, reason: /no valid SOCI index found; deferring to container runtime/ },
    },
    {
      name: 'stargz, wrong TOC digest: the verify failure',
      file: 'stargz-v0.19.1-bad-toc.log.jsonl',
      chainId: 'sha256:efb2486ab22e3e78f1800c02912c2f7e9e9cccb70c0a5a478dd86e2274332a83',
      digest: 'sha256:82f7b20acd9563d5931510202d22052d0b792d5683521520c2b4c33283386bb5',
      want: { prepared: false, local: false, mountPoint: undefined, reason: /failed to prepare remote snapshot: invalid stargz layer: invalid TOC JSON/ },
    },
    {
      name: 'stargz, the base layer of the same pull: prepared remotely',
      file: 'stargz-v0.19.1-bad-toc.log.jsonl',
      chainId: 'sha256:ffe405849734c824d96be1d304b035aa21c1f75744d71ce2f82acec41260a59f',
      digest: 'sha256:f20e04ed9ea4679de6b34014ad1b047a45b15d5ea92fb6323ff52db0367a79b1',
      want: { prepared: true, local: false, reason: undefined },
    },
    {
      name: 'a layer the log does not mention',
      file: 'stargz-v0.19.1-bad-toc.log.jsonl',
      chainId: `sha256:${'0'.repeat(64)}`,
      digest: `sha256:${'1'.repeat(64)}`,
      want: { prepared: undefined, local: false, mountPoint: undefined, reason: undefined },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = layerDecision(log(c.file), c.chainId, c.digest);
      assert.equal(d.prepared, c.want.prepared);
      assert.equal(d.local, c.want.local);
      if ('mountPoint' in c.want) assert.equal(d.mountPoint, c.want.mountPoint);
      if (c.want.reason) assert.ok(d.reasons.some((r) => c.want.reason!.test(r)), JSON.stringify(d.reasons));
      else assert.deepEqual(d.reasons, []);
    });
  }

  it('skips lines that are not JSON objects', () => {
    assert.deepEqual(parseLogEntries('panic: boom\n[1,2]\n\n{"level":"info"}').map((e) => e.fields), [{ level: 'info' }]);
  });
});

describe('layerMount', () => {
  const a = '/d/root/snapshotter/snapshots/1/fs';
  const b = '/d/root/snapshotter/snapshots/2/fs';
  const c = '/d/root/snapshotter/snapshots/3/fs';
  const cases: { name: string; logged: string | undefined; byMount: Record<string, number> | undefined; live: string[]; before: string[]; want: string | undefined }[] = [
    { name: 'the logged mount, when it is mounted', logged: a, byMount: { [b]: 10 }, live: [a, b], before: [], want: a },
    { name: 'a logged mount that is gone: none, whatever the metrics say', logged: a, byMount: { [b]: 10 }, live: [b], before: [], want: undefined },
    { name: 'nothing logged (info level): the one live mount the metrics name for the layer', logged: undefined, byMount: { [b]: 10, [c]: 0 }, live: [a, b], before: [], want: b },
    { name: 'the layer mounted before too: the mount this pull added', logged: undefined, byMount: { [a]: 5, [b]: 10 }, live: [a, b], before: [a], want: b },
    { name: 'two new mounts of one digest: ambiguous, none', logged: undefined, byMount: { [b]: 1, [c]: 1 }, live: [a, b, c], before: [a], want: undefined },
    { name: 'no metrics: none', logged: undefined, byMount: undefined, live: [a], before: [], want: undefined },
  ];
  for (const t of cases) it(t.name, () => assert.equal(layerMount(t.logged, t.byMount, new Set(t.live), new Set(t.before)), t.want));
});
