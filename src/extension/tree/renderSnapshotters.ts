// How the Snapshotters section looks: a row per daemon whose icon and colour say installed,
// running and healthy at a glance (green healthy, red stopped or unhealthy, grey not installed),
// and rows below for its socket, its config and problems, its metrics and its remote snapshots.
import * as vscode from 'vscode';
import { count, formatBytes } from '../../core/format.js';
import type { MetricsSummary } from '../../core/snapshotter/index.js';
import { daemonCondition, snapshotImage, snapshotLayer, type DaemonState } from '../snapshotters/Snapshotters.js';
import type { Node } from './nodes.js';
import { escapeMarkdown, markdown, withIcon } from './render.js';

const { Collapsed, Expanded, None } = vscode.TreeItemCollapsibleState;

type SnapshotterNode = Extract<Node, { kind: 'snapshottersRoot' | 'snapshotter' | 'snapshotterPart' | 'remoteSnapshot' }>;

/** Context tokens of a daemon row, for its menus: `healthy` or `stopped`, and the mode. */
export function daemonTokens(state: DaemonState | undefined): string[] {
  if (!state) return [];
  return [state.place.mode, state.status?.health.healthy ? 'healthy' : 'stopped'];
}

export function renderSnapshotterNode(node: SnapshotterNode, state: DaemonState | undefined): vscode.TreeItem {
  switch (node.kind) {
    case 'snapshottersRoot':
      return withIcon(new vscode.TreeItem('Snapshotters', Expanded), 'server-process');
    case 'snapshotter':
      return daemonItem(node.daemon, state);
    case 'snapshotterPart':
      return partItem(node, state);
    case 'remoteSnapshot': {
      // The layer and its image say more than the snapshot's key (a chain ID), which the tooltip keeps.
      const layer = snapshotLayer(node.labels)?.slice(0, 19);
      const item = withIcon(new vscode.TreeItem(layer ? `layer ${layer}` : node.key, None), 'cloud');
      item.description = snapshotImage(node.labels) ?? '';
      item.tooltip = markdown(`**Remote snapshot** \`${node.key}\``, labelTable(node.labels));
      return item;
    }
  }
}

function daemonItem(kind: string, state: DaemonState | undefined): vscode.TreeItem {
  const item = new vscode.TreeItem(kind, state?.status?.installed || state?.status?.health.healthy ? Collapsed : None);
  const s = state?.status;
  if (state?.busy) {
    withIcon(item, 'sync~spin');
    item.description = state.busy;
  } else if (!s) {
    withIcon(item, state?.error ? 'error' : 'loading~spin', state?.error ? 'charts.red' : undefined);
    item.description = state?.error ? 'status unknown' : 'reading...';
  } else if (!s.installed && !s.health.healthy) {
    withIcon(item, 'circle-slash', 'disabledForeground');
    item.description = 'not installed';
  } else {
    const version = s.installed?.version ?? 'version unknown';
    const health = s.health.healthy ? 'running · healthy' : daemonCondition(state) === 'unhealthy' ? 'running · unhealthy' : 'stopped';
    withIcon(item, s.health.healthy ? 'pass-filled' : 'error', s.health.healthy ? 'charts.green' : 'charts.red');
    item.description = `${version} · ${health} · ${state.place.mode}`;
  }
  item.tooltip = daemonTooltip(kind, state);
  return item;
}

function daemonTooltip(kind: string, state: DaemonState | undefined): vscode.MarkdownString {
  if (!state) return markdown(`**${kind}** snapshotter`, 'Reading its status...');
  const { place, status: s } = state;
  const rows = ['| | |', '|---|---|', `| mode | ${place.mode === 'managed' ? `managed in \`${place.dir}\`` : `systemd \`${place.unit}\``} |`];
  if (s) {
    rows.push(`| binary | ${s.installed ? `\`${s.installed.path}\` (${escapeMarkdown(s.installed.raw)})` : 'not installed'} |`);
    rows.push(`| health | ${s.health.healthy ? `healthy: List answered in ${s.health.latencyMs} ms` : escapeMarkdown(s.health.message)} |`);
    if (s.systemd) rows.push(`| systemd | ${s.systemd.unit}: ${s.systemd.state} |`);
  }
  const next = s?.suggestions.map((x) => `- ${escapeMarkdown(x)}`).join('\n') ?? '';
  return markdown(`**${kind}** snapshotter`, rows.join('\n'), state.error ? escapeMarkdown(state.error) : '', next);
}

const PART_LABELS = { socket: 'socket', config: 'config', metrics: 'metrics', snapshots: 'remote snapshots' } as const;

function partItem(node: Extract<Node, { kind: 'snapshotterPart' }>, state: DaemonState | undefined): vscode.TreeItem {
  const s = state?.status;
  const item = new vscode.TreeItem(PART_LABELS[node.part], None);
  switch (node.part) {
    case 'socket':
      withIcon(item, 'plug');
      item.description = state?.place.socket;
      break;
    case 'config': {
      const problems = s?.config.problems ?? [];
      const errors = problems.filter((p) => p.severity === 'error').length;
      withIcon(item, errors > 0 ? 'error' : problems.length > 0 ? 'warning' : 'gear', errors > 0 ? 'charts.red' : problems.length > 0 ? 'charts.yellow' : undefined);
      item.description = `${state?.place.config ?? ''}${s && !s.config.exists ? ' · none: defaults' : problems.length > 0 ? ` · ${count(problems.length, 'problem')}` : ''}`;
      item.tooltip = markdown(`**Config** \`${state?.place.config ?? ''}\``, problems.map((p) => `- ${p.line === undefined ? '' : `line ${p.line}: `}${p.severity === 'warning' ? 'warning: ' : ''}${escapeMarkdown(p.message)}`).join('\n') || 'No problems.');
      item.command = { command: 'lazyImages.openSnapshotterConfig', title: 'Open Config', arguments: [{ kind: 'snapshotter', daemon: node.daemon }] };
      break;
    }
    case 'metrics': {
      withIcon(item, 'graph');
      const m = s?.metrics;
      if (m?.state === 'ok') {
        item.description = metricsLine(m.summary);
        item.tooltip = metricsTooltip(m.address, m.summary);
      } else {
        item.description = m?.state === 'down' ? 'not answering' : 'off: set metrics_address in the config';
        item.tooltip = markdown(m?.state === 'down' ? escapeMarkdown(m.message) : 'The daemon serves metrics only with `metrics_address = "127.0.0.1:<port>"` in its config.');
      }
      break;
    }
    case 'snapshots': {
      const remote = s?.health.healthy ? s.health.snapshots.filter((x) => x.remote) : [];
      withIcon(item, 'layers');
      item.collapsibleState = remote.length > 0 ? Collapsed : None;
      item.description = s?.health.healthy ? count(remote.length, 'snapshot') : 'not running';
      break;
    }
  }
  return item;
}

/** One line: what lazy loading fetched of what it could have, and what that took. */
function metricsLine(x: MetricsSummary): string {
  const line = `fetched ${formatBytes(x.bytesFetched)} of ${formatBytes(x.layerBytes)} · ${count(x.registryFetches, 'registry fetch', 'registry fetches')} · ${count(x.reads, 'read')}`;
  return x.hasSnapshotterMetrics ? line : `${line} · nothing mounted yet`;
}

function metricsTooltip(address: string, x: MetricsSummary): vscode.MarkdownString {
  const parts = [`**Metrics** \`${address}\``, `${formatBytes(x.bytesServed)} read on demand in ${count(x.reads, 'read')}; ${count(x.mounts, 'mount')}`];
  if (x.layers.length > 0) parts.push(['| layer | fetched / size | reads | registry fetches |', '|---|---:|---:|---:|', ...x.layers.map((l) => `| \`${l.layer.slice(0, 19)}\` | ${formatBytes(l.fetched)} / ${formatBytes(l.size)} | ${l.reads} | ${l.registryFetches} |`)].join('\n'));
  if (x.latencies.length > 0) parts.push(['| operation | count | mean | p95 |', '|---|---:|---:|---:|', ...x.latencies.map((l) => `| ${escapeMarkdown(l.operation)} | ${l.count} | ${l.meanMs.toFixed(2)} ms | ${l.p95Ms === undefined ? '' : `${l.p95PastBuckets ? '>' : '≤'} ${l.p95Ms} ms`} |`)].join('\n'));
  if (x.backgroundFetches !== undefined) parts.push(`Background fetch: ${count(x.backgroundFetches, 'span fetch', 'span fetches')}, ${x.backgroundFetchFailures ?? 0} failed`);
  const failures = Object.entries(x.fuseFailures);
  if (failures.length > 0) parts.push(`FUSE failures: ${failures.map(([op, n]) => `${escapeMarkdown(op)} ${n}`).join(', ')}`);
  return markdown(...parts);
}

function labelTable(labels: Record<string, string>): string {
  return ['| label | value |', '|---|---|', ...Object.entries(labels).map(([k, v]) => `| \`${k}\` | \`${v.replace(/[`|]/g, ' ')}\` |`)].join('\n');
}
