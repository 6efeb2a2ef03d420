// How each kind of node looks: label, icon, description, Markdown tooltip and click action.
import * as vscode from 'vscode';
import { formatPlatform, formatReference, type Descriptor } from '../../core/oci/index.js';
import { count, formatBytes, shortMediaType } from '../../core/format.js';
import { describeLaziness, type LazinessSummary } from '../../core/image/index.js';
import type { LayerEntry } from '../../core/lazy/index.js';
import type { JobRecord } from '../jobs/JobManager.js';
import type { DaemonState } from '../snapshotters/Snapshotters.js';
import type { LazyStatus } from './LazyStatuses.js';
import { contextValue, nodeId, type Node } from './nodes.js';
import { daemonTokens, renderSnapshotterNode } from './renderSnapshotters.js';

const { Collapsed, Expanded, None } = vscode.TreeItemCollapsibleState;
const MAX_LABEL = 120;

/** `status` is the image row's lazy status, when the node is an image; `daemon` the state of a snapshotter node's daemon. */
export function renderNode(node: Node, status?: LazyStatus, daemon?: DaemonState): vscode.TreeItem {
  const item = build(node, status, daemon);
  item.id = nodeId(node);
  item.contextValue = contextValue(node, node.kind === 'snapshotter' ? daemonTokens(daemon) : []);
  return item;
}

function build(node: Node, status: LazyStatus | undefined, daemon: DaemonState | undefined): vscode.TreeItem {
  switch (node.kind) {
    case 'snapshottersRoot':
    case 'snapshotter':
    case 'snapshotterPart':
    case 'remoteSnapshot':
      return renderSnapshotterNode(node, daemon);
    case 'registriesRoot':
      return withIcon(new vscode.TreeItem('Registries', Expanded), 'cloud');
    case 'layoutsRoot':
      return withIcon(new vscode.TreeItem('Local OCI Layouts', Expanded), 'folder-library');
    case 'jobsRoot':
      return withIcon(new vscode.TreeItem('Jobs', Expanded), 'tasklist');
    case 'job': {
      const { record } = node;
      const item = withIcon(new vscode.TreeItem(record.label, None), ...JOB_ICONS[record.status]);
      const seconds = record.ended === undefined ? undefined : ((record.ended - record.started) / 1000).toFixed(1);
      // Status and duration first: a narrow tree cuts the description's end.
      item.description = `${seconds === undefined ? 'running' : `${record.status} · ${seconds} s`} · ${record.where}`;
      item.tooltip = markdown(`**${escapeMarkdown(record.title)}**`, `${record.status}${seconds === undefined ? '' : ` after ${seconds} s`}, in ${escapeMarkdown(record.where)}`, record.detail ? escapeMarkdown(record.detail) : '');
      if (record.status !== 'running') item.command = { command: 'lazyImages.showJobResult', title: 'Show Result', arguments: [node] };
      return item;
    }
    case 'registry': {
      const item = withIcon(new vscode.TreeItem(node.host, Collapsed), 'server');
      item.description = node.loggedIn ? 'logged in' : undefined;
      item.tooltip = markdown(`**Registry** \`${node.host}\``, node.loggedIn ? 'Credentials: stored in VS Code secret storage' : 'Credentials: docker config, or anonymous');
      return item;
    }
    case 'repository':
      return withIcon(new vscode.TreeItem(node.repository, Collapsed), 'repo');
    case 'layout': {
      const item = withIcon(new vscode.TreeItem(node.label, Collapsed), 'folder');
      item.tooltip = markdown(`**OCI image layout** \`${node.path}\``);
      item.resourceUri = vscode.Uri.file(node.path);
      return item;
    }
    case 'image':
      return imageItem(node, status);
    case 'platform': {
      const item = withIcon(new vscode.TreeItem(node.descriptor.platform ? formatPlatform(node.descriptor.platform) : node.descriptor.artifactType ?? 'unknown platform', Collapsed), 'vm');
      item.description = shortDigest(node.descriptor.digest);
      item.tooltip = descriptorTooltip('Manifest', node.descriptor);
      return item;
    }
    case 'layer': {
      // eStargz by its annotation, SOCI by a zTOC in an index of the image; Verify Lazy Pull
      // Readiness checks that the content agrees.
      const { layer } = node;
      const item = withIcon(new vscode.TreeItem(`layer ${layer.index}/${node.count}`, layer.estargz ? Collapsed : None), layer.reason ? 'layers' : 'cloud-download');
      // The badges first: a narrow tree cuts the description's end.
      const badges = [layer.estargz ? 'eStargz' : '', layer.soci ? 'SOCI' : ''].filter(Boolean);
      item.description = [...badges, formatBytes(layer.descriptor.size), shortMediaType(layer.descriptor.mediaType)].join(' · ');
      item.tooltip = descriptorTooltip(badges.length ? `${badges.join(' and ')} layer` : 'Layer', layer.descriptor, {
        pulled: escapeMarkdown(describeLaziness(layer)),
        ...(layer.soci ? { zTOC: `\`${layer.soci.ztoc.digest}\` (SOCI ${layer.soci.version})` } : {}),
      });
      return item;
    }
    case 'sociIndex': {
      const { found } = node;
      const index = found.index;
      const label = `SOCI index ${index?.version ?? ''}`.trim();
      const unusable = found.error !== undefined;
      const item = withIcon(new vscode.TreeItem(label, index ? Collapsed : None), unusable || index?.problems.length ? 'warning' : 'zap');
      item.description = [index ? count(index.ztocs.size, 'zTOC') : '', shortDigest(found.digest), unusable ? 'not used: see tooltip' : index?.problems.length ? 'see tooltip' : ''].filter(Boolean).join(' · ');
      const withZtoc = node.layers.filter((l) => index?.ztocs.has(l.descriptor.digest)).length;
      item.tooltip = descriptorTooltip(label, index?.descriptor ?? { mediaType: 'unknown', digest: found.digest, size: 0 }, {
        'layers with a zTOC': `${withZtoc} of ${node.layers.length} (the others are pulled whole)`,
        ...(index?.buildTool ? { 'built by': escapeMarkdown(index.buildTool) } : {}),
        ...(found.error ? { 'not used': escapeMarkdown(found.error) } : {}),
        ...Object.fromEntries((index?.problems ?? []).map((p, i) => [`problem ${i + 1}`, escapeMarkdown(p)])),
      });
      return item;
    }
    case 'ztoc': {
      const { layer, lazy, index, count } = node.source;
      const item = withIcon(new vscode.TreeItem(`zTOC of layer ${index}/${count}`, Collapsed), 'list-tree');
      item.description = `${formatBytes(lazy.ztoc.size)} · layer ${formatBytes(layer.size)}`;
      item.tooltip = descriptorTooltip('zTOC', lazy.ztoc, { layer: `\`${layer.digest}\`` });
      return item;
    }
    case 'layerFile':
      return fileItem(node);
    case 'loadMore': {
      const item = withIcon(new vscode.TreeItem('Load more...', None), 'ellipsis');
      item.command = { command: 'lazyImages.loadMore', title: 'Load More', arguments: [node.parent] };
      return item;
    }
    case 'addRepository': {
      const item = withIcon(new vscode.TreeItem('Add Repository...', None), 'add');
      item.command = { command: 'lazyImages.addRepository', title: 'Add Repository', arguments: [{ kind: 'registry', host: node.host, loggedIn: false }] };
      return item;
    }
    case 'info':
      return withIcon(new vscode.TreeItem(node.message, None), 'info');
    case 'error': {
      // The tree position names what failed; the label says why, the tooltip has it all.
      const cause = /^Cannot .+?: (.+)$/s.exec(node.message)?.[1] ?? node.message;
      const text = cause.charAt(0).toUpperCase() + cause.slice(1);
      const item = new vscode.TreeItem(text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 3)}...` : text, None);
      item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
      item.description = node.needsLogin ? 'click to log in' : 'click to try again';
      item.tooltip = markdown(escapeMarkdown(node.message));
      item.command = node.needsLogin
        ? { command: 'lazyImages.logIn', title: 'Log In', arguments: [{ kind: 'registry', host: node.host ?? '', loggedIn: false }] }
        : { command: 'lazyImages.retry', title: 'Retry', arguments: [node] };
      return item;
    }
  }
}

const STATUS_ICONS: Record<LazinessSummary['level'], [string, string | undefined]> = { lazy: ['cloud-download', 'charts.green'], partly: ['cloud', 'charts.yellow'], none: ['tag', undefined] };

/** A tag or image: whether it is lazy, in its description and icon, and per layer in its tooltip once known. */
function imageItem(node: Extract<Node, { kind: 'image' }>, status: LazyStatus | undefined): vscode.TreeItem {
  const item = new vscode.TreeItem(node.label, Collapsed);
  const head = `**Image** \`${formatReference(node.ref)}\``;
  if (status?.kind !== 'known') {
    item.iconPath = new vscode.ThemeIcon('tag');
    const why = status === undefined ? 'Expand it to see which layers are lazy.' : status.kind === 'loading' ? 'Reading whether it is lazy...' : `Whether it is lazy is unknown: ${escapeMarkdown(status.message)}`;
    item.tooltip = markdown(head, why);
    return item;
  }
  const { summary, image } = status;
  withIcon(item, ...STATUS_ICONS[summary.level]);
  item.description = summary.text;
  const layers = image.layers.map((l) => `| ${l.index} | ${formatBytes(l.descriptor.size)} | ${escapeMarkdown(describeLaziness(l))} |`);
  item.tooltip = markdown(head, `${summary.text}${image.platform ? ` (${formatPlatform(image.platform)})` : ''}`, ['| layer | size | pulled |', '|---:|---:|---|', ...layers].join('\n'));
  return item;
}

const FILE_ICONS: Record<LayerEntry['type'], string> = { dir: 'folder', reg: 'file', symlink: 'file-symlink-file', hardlink: 'link', char: 'symbol-misc', block: 'symbol-misc', fifo: 'symbol-misc' };

/**
 * A file of a lazy layer: its size and what reading it fetches (eStargz chunks, SOCI spans), links
 * with their targets, prefetched files marked; a click reads it through what holds it.
 */
function fileItem(node: Extract<Node, { kind: 'layerFile' }>): vscode.TreeItem {
  const e = node.entry;
  const name = e.path.slice(e.path.lastIndexOf('/') + 1);
  const item = withIcon(new vscode.TreeItem(name, e.type === 'dir' ? Collapsed : None), FILE_ICONS[e.type]);
  const spans = e.spans ? (e.spans[0] === e.spans[1] ? `span ${e.spans[0]}` : `spans ${e.spans[0]}–${e.spans[1]}`) : '';
  const parts: string[] = [];
  if (e.type === 'reg') parts.push(formatBytes(e.size), e.chunks !== undefined ? count(e.chunks, 'chunk') : spans || 'no data');
  if (e.type === 'symlink') parts.push(`→ ${e.linkname}`);
  if (e.type === 'hardlink') parts.push(`hard link → ${e.linkname}`);
  if (e.type === 'char' || e.type === 'block' || e.type === 'fifo') parts.push(e.type);
  if (e.prefetched) parts.push('prefetched');
  item.description = parts.join(' · ');
  const rows = [`**${escapeMarkdown(e.path)}**`, '', '| | |', '|---|---|', `| type | ${e.implied ? 'dir (implied by its contents)' : e.type} |`];
  if (e.type === 'reg') {
    rows.push(`| size | ${formatBytes(e.size)} (${e.size} bytes) |`);
    if (e.chunks !== undefined) rows.push(`| chunks | ${e.chunks} |`);
    if (e.tarOffset !== undefined) rows.push(`| in the tar | bytes ${e.tarOffset} to ${e.tarOffset + e.size} |`, `| spans | ${spans || 'none'} |`);
  }
  if (e.linkname) rows.push(`| target | \`${e.linkname.replace(/[`|]/g, ' ')}\` |`);
  if (!e.implied) rows.push(`| mode | ${(e.mode & 0o7777).toString(8).padStart(4, '0')} |`, `| owner | ${e.uid}:${e.gid} |`);
  if (e.modTime) rows.push(`| modified | ${e.modTime} |`);
  if (e.digest) rows.push(`| digest | \`${e.digest}\` |`);
  if (e.prefetched) rows.push('| prefetch | before `.prefetch.landmark`: fetched before the container starts |');
  item.tooltip = new vscode.MarkdownString(rows.join('\n'));
  if (e.type === 'reg' || e.type === 'hardlink') item.command = { command: 'lazyImages.openLazyFile', title: 'Open File (lazy)', arguments: [node] };
  return item;
}

/** Distinct shapes and theme colours, so the outcome reads at a glance in any theme. */
const JOB_ICONS: Record<JobRecord['status'], [string, string | undefined]> = {
  running: ['sync~spin', undefined],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', 'disabledForeground'],
};

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

export function withIcon(item: vscode.TreeItem, icon: string, color?: string): vscode.TreeItem {
  item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
  return item;
}

export function markdown(...paragraphs: string[]): vscode.MarkdownString {
  return new vscode.MarkdownString(paragraphs.join('\n\n'));
}

/** A descriptor's fields and annotations, after any `extra` rows (values already Markdown). */
function descriptorTooltip(what: string, d: Descriptor, extra: Record<string, string> = {}): vscode.MarkdownString {
  const rows = [`**${what}**`, '', '| | |', '|---|---|', `| digest | \`${d.digest}\` |`, `| size | ${formatBytes(d.size)} (${d.size} bytes) |`, `| media type | \`${d.mediaType}\` |`];
  for (const [k, v] of Object.entries(extra)) rows.push(`| ${k} | ${v} |`);
  for (const [k, v] of Object.entries(d.annotations ?? {})) rows.push(`| \`${k}\` | \`${v.replace(/[`|]/g, ' ')}\` |`);
  return new vscode.MarkdownString(rows.join('\n'));
}

function shortDigest(digest: string): string {
  return digest.slice(0, 'sha256:'.length + 12);
}
