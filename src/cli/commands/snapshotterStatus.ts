// `lazyimg snapshotter status` for people: one block per daemon, each part checked, then what to do.
import { formatProblem, type SnapshotterStatus } from '../../core/snapshotter/index.js';
import { count, formatBytes } from '../format.js';

const SHOWN_SNAPSHOTS = 20;

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : 'size unknown';
}

export function statusLines(s: SnapshotterStatus): string[] {
  const lines = [`${s.kind}:`];
  const i = s.installed;
  lines.push(`  installed   ${i ? `${i.path} (${i.version ?? 'version unknown'}${i.revision ? ` ${i.revision}` : ''})` : 'no'}`);
  if (s.systemd) lines.push(`  systemd     ${s.systemd.unit}: ${s.systemd.state}`);
  const h = s.health;
  lines.push(`  socket      ${s.socket}`);
  lines.push(h.healthy ? `  health      healthy: List answered in ${h.latencyMs} ms, ${count(h.snapshots.length, 'snapshot')} (${h.snapshots.filter((x) => x.remote).length} remote)` : `  health      not running (${h.reason}): ${h.message}`);
  lines.push(`  config      ${s.config.file}${s.config.exists ? (s.config.problems.length === 0 ? ': no problems' : '') : ': none (defaults)'}`);
  for (const p of s.config.problems) lines.push(`    ${formatProblem(p)}`);
  const m = s.metrics;
  if (m.state === 'off') lines.push('  metrics     off (no metrics_address)');
  else if (m.state === 'down') lines.push(`  metrics     down: ${m.message}`);
  else {
    const x = m.summary;
    lines.push(`  metrics     http://${m.address}/metrics${x.hasSnapshotterMetrics ? '' : ': nothing mounted yet'}`);
    if (x.hasSnapshotterMetrics) {
      lines.push(`    fetched ${formatBytes(x.bytesFetched)} of ${formatBytes(x.layerBytes)} (${percent(x.bytesFetched, x.layerBytes)}) in ${count(x.registryFetches, 'registry fetch', 'registry fetches')}; read ${formatBytes(x.bytesServed)} in ${count(x.reads, 'read')}; ${count(x.mounts, 'mount')}`);
      if (x.backgroundFetches !== undefined) lines.push(`    background: ${count(x.backgroundFetches, 'span fetch', 'span fetches')}, ${x.backgroundFetchFailures ?? 0} failed`);
      const failures = Object.entries(x.fuseFailures);
      if (failures.length > 0) lines.push(`    FUSE failures: ${failures.map(([op, n]) => `${op} ${n}`).join(', ')}`);
      for (const l of x.latencies) lines.push(`    ${l.operation}: ${l.count} in ${l.meanMs.toFixed(2)} ms on average${l.p95Ms === undefined ? '' : `, p95 ${l.p95PastBuckets ? '>' : '<='} ${l.p95Ms} ms`}`);
      for (const l of x.layers) lines.push(`    layer ${l.layer}: fetched ${formatBytes(l.fetched)} of ${formatBytes(l.size)} (${percent(l.fetched, l.size)}), ${count(l.reads, 'read')}`);
    }
  }
  if (h.healthy) {
    for (const snap of h.snapshots.slice(0, SHOWN_SNAPSHOTS)) lines.push(`  ${snap.kind.toLowerCase().padEnd(9)} ${snap.remote ? 'remote ' : 'local  '} ${snap.key}${snap.parent ? ` <- ${snap.parent}` : ''}`);
    if (h.snapshots.length > SHOWN_SNAPSHOTS) lines.push(`  ... and ${h.snapshots.length - SHOWN_SNAPSHOTS} more (--json lists them all)`);
  }
  for (const x of s.suggestions) lines.push(`  -> ${x}`);
  return lines;
}
