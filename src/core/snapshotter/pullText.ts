// A pull report in words, for the CLI and the editor alike: the per-layer lines, and one line that
// says what matters most (a failed pull, a silent fallback, or how many layers were mounted lazily).
import { count, formatBytes } from '../format.js';
import type { PulledLayer, PullReport } from './pull.js';

export interface PullSummary {
  /** `3 of 3 layers mounted lazily`, `silent fallback: layer 2 downloaded: <reason>`, ... */
  text: string;
  /** error: the pull failed; warning: reality differs from the prediction, or is unknown. */
  severity: 'info' | 'warning' | 'error';
}

function outcomeText(l: PulledLayer): string {
  return l.outcome === 'remote' ? 'remote-mounted (lazy)' : l.outcome === 'downloaded' ? 'downloaded' : 'no snapshot found';
}

/** The report, a line per fact: each layer's outcome, prediction, mount and fetched bytes, and the daemon's reasons. */
export function renderPull(r: PullReport): string[] {
  const lines = [`Pulled ${r.ref} (${r.image}) through ${r.snapshotter}${r.failed ? ': FAILED' : ''}`];
  if (r.failed) lines.push(`  ${r.command.join(' ')}:`, ...r.failed.split('\n').map((l) => `  | ${l}`));
  for (const l of r.layers) {
    const fetched = l.fetched === undefined ? 'unknown' : `${formatBytes(l.fetched)} of ${formatBytes(l.size)}`;
    lines.push(`layer ${l.index} ${l.digest}: ${outcomeText(l)}`);
    lines.push(`  predicted: ${l.predicted.text}`);
    if (l.mismatch) lines.push(`  MISMATCH: ${l.mismatch}`);
    if (l.outcome === 'remote') lines.push(`  mount: ${l.mountPoint ?? 'unknown'}; fetched at mount: ${fetched}`);
    for (const reason of l.reasons) lines.push(`  daemon: ${reason}`);
    for (const note of l.notes) lines.push(`  note: ${note}`);
  }
  if (r.metricsNote) lines.push(`(${r.metricsNote})`);
  return lines;
}

/** The report in one line: a failure first, then the first silent fallback (with the daemon's reason), then the count. */
export function summarizePull(r: PullReport): PullSummary {
  if (r.failed) return { text: `the pull failed: ${r.failed.split('\n')[0]}`, severity: 'error' };
  const lazy = r.layers.filter((l) => l.outcome === 'remote').length;
  const mounted = `${lazy} of ${count(r.layers.length, 'layer')} mounted lazily`;
  const fallback = r.layers.find((l) => l.mismatch !== undefined && l.outcome === 'downloaded');
  if (fallback) {
    const others = r.layers.filter((l) => l !== fallback && l.mismatch !== undefined).length;
    const why = fallback.reasons[0] ?? 'the daemon gave no reason';
    return { text: `silent fallback: layer ${fallback.index} downloaded: ${why}${others > 0 ? ` (and ${count(others, 'other layer')} not as predicted)` : ''}; ${mounted}`, severity: 'warning' };
  }
  const surprise = r.layers.find((l) => l.mismatch !== undefined);
  if (surprise) return { text: `${mounted}; layer ${surprise.index} ${surprise.mismatch}`, severity: 'warning' };
  const unknown = r.layers.filter((l) => l.outcome === 'unknown');
  if (unknown.length > 0) return { text: `${mounted}; no snapshot found for layer ${unknown.map((l) => l.index).join(', ')}`, severity: 'warning' };
  const downloaded = r.layers.length - lazy;
  return { text: downloaded > 0 ? `${mounted}; ${downloaded} downloaded, as predicted` : mounted, severity: 'info' };
}
