// A pull report in words: the one-line summary the editor's notification and the CLI's last line
// show (a failure, a silent fallback with the daemon's reason, or the count), and the per-layer lines.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderPull, summarizePull, type PulledLayer, type PullReport } from '../../../src/core/snapshotter/index.js';

const digest = (c: string): string => `sha256:${c.repeat(64)}`;

function layer(index: number, over: Partial<PulledLayer> = {}): PulledLayer {
  return {
    index, digest: digest(String(index)), size: 1024 * 1024, chainId: digest('c'), predicted: { lazy: true, text: 'lazy (SOCI v2)' },
    outcome: 'remote', prepared: true, remoteLabel: true, reasons: [], notes: [], mountPoint: `/root/snapshots/${index}/fs`, fetched: 512, mismatch: undefined, ...over,
  };
}

function report(layers: PulledLayer[], over: Partial<PullReport> = {}): PullReport {
  return { ref: 'registry.example/app:v1', snapshotter: 'soci', image: digest('i'), command: ['ctr', 'images', 'pull'], failed: undefined, metricsNote: undefined, layers, ...over };
}

const downloaded = (index: number, over: Partial<PulledLayer> = {}): PulledLayer => layer(index, { outcome: 'downloaded', prepared: false, mountPoint: undefined, fetched: undefined, ...over });
const fallback = (index: number, reason?: string): PulledLayer => downloaded(index, { reasons: reason ? [reason] : [], mismatch: 'predicted lazy (SOCI v2), but it was downloaded: a silent fallback' });

describe('summarizePull', () => {
  const cases: { name: string; report: PullReport; want: ReturnType<typeof summarizePull> }[] = [
    { name: 'every layer remote-mounted', report: report([layer(1), layer(2), layer(3)]), want: { text: '3 of 3 layers mounted lazily', severity: 'info' } },
    { name: 'one layer', report: report([layer(1)]), want: { text: '1 of 1 layer mounted lazily', severity: 'info' } },
    {
      name: 'a silent fallback, with the daemon\'s reason',
      report: report([layer(1), fallback(2, 'no valid SOCI index found; deferring to container runtime'), layer(3)]),
      want: { text: 'silent fallback: layer 2 downloaded: no valid SOCI index found; deferring to container runtime; 2 of 3 layers mounted lazily', severity: 'warning' },
    },
    {
      name: 'the first fallback named, the others counted; no reason logged',
      report: report([fallback(1), fallback(2, 'later'), fallback(3, 'later')]),
      want: { text: 'silent fallback: layer 1 downloaded: the daemon gave no reason (and 2 other layers not as predicted); 0 of 3 layers mounted lazily', severity: 'warning' },
    },
    {
      name: 'layers downloaded as predicted are no fallback',
      report: report([downloaded(1, { predicted: { lazy: false, text: 'under SOCI\'s 10 MiB minimum layer size: pulled whole' } }), layer(2)]),
      want: { text: '1 of 2 layers mounted lazily; 1 downloaded, as predicted', severity: 'info' },
    },
    {
      name: 'mounted lazily against the prediction',
      report: report([layer(1, { predicted: { lazy: false, text: 'pulled whole' }, mismatch: 'predicted "pulled whole", but it was mounted lazily' })]),
      want: { text: '1 of 1 layer mounted lazily; layer 1 predicted "pulled whole", but it was mounted lazily', severity: 'warning' },
    },
    {
      name: 'a layer with no snapshot',
      report: report([layer(1), layer(2, { outcome: 'unknown', prepared: undefined, remoteLabel: undefined, mountPoint: undefined, fetched: undefined })]),
      want: { text: '1 of 2 layers mounted lazily; no snapshot found for layer 2', severity: 'warning' },
    },
    {
      name: 'a failed pull: what the client said, first line',
      report: report([], { failed: 'ctr: failed to resolve reference "registry.example/app:v1": not found\nmore' }),
      want: { text: 'the pull failed: ctr: failed to resolve reference "registry.example/app:v1": not found', severity: 'error' },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(summarizePull(c.report), c.want));
});

describe('renderPull', () => {
  it('a line per layer, then its prediction, mount and bytes fetched, the daemon\'s reasons and notes', () => {
    const lines = renderPull(report([layer(1), fallback(2, 'no ztoc for layer')], { metricsNote: 'no metrics address given: bytes fetched unknown' }));
    assert.deepEqual(lines, [
      `Pulled registry.example/app:v1 (${digest('i')}) through soci`,
      `layer 1 ${digest('1')}: remote-mounted (lazy)`,
      '  predicted: lazy (SOCI v2)',
      '  mount: /root/snapshots/1/fs; fetched at mount: 512 B of 1.00 MiB',
      `layer 2 ${digest('2')}: downloaded`,
      '  predicted: lazy (SOCI v2)',
      '  MISMATCH: predicted lazy (SOCI v2), but it was downloaded: a silent fallback',
      '  daemon: no ztoc for layer',
      '(no metrics address given: bytes fetched unknown)',
    ]);
  });

  it('a failed pull shows the command and what the client said', () => {
    const lines = renderPull(report([], { failed: 'ctr: not found' }));
    assert.deepEqual(lines, [`Pulled registry.example/app:v1 (${digest('i')}) through soci: FAILED`, '  ctr images pull:', '  | ctr: not found']);
  });
});
