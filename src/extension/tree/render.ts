// How each kind of node looks: label, icon, description, Markdown tooltip and click action.
import * as vscode from 'vscode';
import { formatPlatform, formatReference, type Descriptor } from '../../core/oci/index.js';
import { formatBytes } from '../../core/format.js';
import type { JobRecord } from '../jobs/JobManager.js';
import { contextValue, isEstargz, nodeId, type Node } from './nodes.js';
import type { TocItem } from './TocTree.js';

const { Collapsed, Expanded, None } = vscode.TreeItemCollapsibleState;
const MAX_LABEL = 120;

export function renderNode(node: Node): vscode.TreeItem {
  const item = build(node);
  item.id = nodeId(node);
  item.contextValue = contextValue(node);
  return item;
}

function build(node: Node): vscode.TreeItem {
  switch (node.kind) {
    case 'registriesRoot':
      return withIcon(new vscode.TreeItem('Registries', Expanded), 'cloud');
    case 'layoutsRoot':
      return withIcon(new vscode.TreeItem('Local OCI Layouts', Expanded), 'folder-library');
    case 'jobsRoot':
      return withIcon(new vscode.TreeItem('Jobs', Expanded), 'tasklist');
    case 'job': {
      const { record } = node;
      const item = withIcon(new vscode.TreeItem(record.label, None), JOB_ICONS[record.status]);
      const seconds = record.ended === undefined ? undefined : ((record.ended - record.started) / 1000).toFixed(1);
      item.description = seconds === undefined ? 'running' : `${record.status} · ${seconds} s`;
      item.tooltip = markdown(`**${record.title}**`, `${record.status}${seconds === undefined ? '' : ` after ${seconds} s`}`, record.detail ? escapeMarkdown(record.detail) : '');
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
    case 'image': {
      const item = withIcon(new vscode.TreeItem(node.label, Collapsed), 'tag');
      item.tooltip = markdown(`**Image** \`${formatReference(node.ref)}\``, 'Expand to read its manifest.');
      return item;
    }
    case 'platform': {
      const item = withIcon(new vscode.TreeItem(node.descriptor.platform ? formatPlatform(node.descriptor.platform) : node.descriptor.artifactType ?? 'unknown platform', Collapsed), 'vm');
      item.description = shortDigest(node.descriptor.digest);
      item.tooltip = descriptorTooltip('Manifest', node.descriptor);
      return item;
    }
    case 'layer': {
      // eStargz by its annotation, SOCI by a zTOC in an index of the image; Verify Lazy Pull
      // Readiness checks that the content agrees.
      const estargz = isEstargz(node);
      const item = withIcon(new vscode.TreeItem(`layer ${node.index + 1}/${node.count}`, estargz ? Collapsed : None), estargz || node.ztoc ? 'cloud-download' : 'layers');
      // The badges first: a narrow tree cuts the description's end.
      const badges = [estargz ? 'eStargz' : '', node.ztoc ? 'SOCI' : ''].filter(Boolean);
      item.description = [...badges, formatBytes(node.descriptor.size), shortMediaType(node.descriptor.mediaType)].join(' · ');
      item.tooltip = descriptorTooltip(badges.length ? `${badges.join(' and ')} layer` : 'Layer', node.descriptor, node.ztoc ? { 'zTOC': `\`${node.ztoc.digest}\`` } : {});
      return item;
    }
    case 'tocEntry':
      return tocItem(node);
    case 'sociIndex': {
      const { index } = node;
      const item = withIcon(new vscode.TreeItem(`SOCI index ${index.version}`, Collapsed), index.problems.length ? 'warning' : 'zap');
      item.description = `${index.ztocs.size} zTOC${index.ztocs.size === 1 ? '' : 's'} · ${shortDigest(index.descriptor.digest)}${index.problems.length ? ' · see tooltip' : ''}`;
      item.tooltip = descriptorTooltip(`SOCI index ${index.version}`, index.descriptor, {
        'layers with a zTOC': `${index.ztocs.size} of ${node.layers.length} (the others are pulled whole)`,
        ...(index.buildTool ? { 'built by': escapeMarkdown(index.buildTool) } : {}),
        ...Object.fromEntries(index.problems.map((p, i) => [`problem ${i + 1}`, escapeMarkdown(p)])),
      });
      return item;
    }
    case 'ztoc': {
      const { layer, ztoc, index, count } = node.layer;
      const item = withIcon(new vscode.TreeItem(`zTOC of layer ${index}/${count}`, Collapsed), 'list-tree');
      item.description = `${formatBytes(ztoc.size)} · layer ${formatBytes(layer.size)}`;
      item.tooltip = descriptorTooltip('zTOC', ztoc, { layer: `\`${layer.digest}\`` });
      return item;
    }
    case 'ztocEntry':
      return ztocItem(node);
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

const TOC_ICONS: Record<TocItem['type'], string> = { dir: 'folder', reg: 'file', symlink: 'file-symlink-file', hardlink: 'link', other: 'symbol-misc' };

/** An eStargz TOC's file: its size, chunks and prefetch; a click reads it through its chunks. */
function tocItem(node: Extract<Node, { kind: 'tocEntry' }>): vscode.TreeItem {
  const toc = node.item;
  const item = withIcon(new vscode.TreeItem(toc.name, toc.type === 'dir' ? Collapsed : None), TOC_ICONS[toc.type]);
  const e = toc.entry;
  const parts: string[] = [];
  if (toc.type === 'reg') parts.push(formatBytes(e?.size ?? 0), `${toc.chunks} chunk${toc.chunks === 1 ? '' : 's'}`);
  if (toc.type === 'symlink') parts.push(`→ ${e?.linkName ?? ''}`);
  if (toc.type === 'hardlink') parts.push(`hard link → ${e?.linkName ?? ''}`);
  if (toc.type === 'other') parts.push(e?.type ?? 'implied');
  if (toc.prefetched) parts.push('prefetched');
  item.description = parts.join(' · ');
  const rows = [`**${escapeMarkdown(toc.path)}**`, '', '| | |', '|---|---|', `| type | ${e?.type ?? 'dir (implied by its contents)'} |`];
  if (e?.type === 'reg') rows.push(`| size | ${formatBytes(e.size ?? 0)} (${e.size ?? 0} bytes) |`, `| chunks | ${toc.chunks} |`);
  if (e?.linkName) rows.push(`| target | \`${e.linkName.replace(/[`|]/g, ' ')}\` |`);
  if (e) rows.push(`| mode | ${((e.mode ?? 0) & 0o7777).toString(8).padStart(4, '0')} |`, `| owner | ${e.uid ?? 0}:${e.gid ?? 0} |`);
  if (e?.modtime) rows.push(`| modified | ${e.modtime} |`);
  if (e?.digest) rows.push(`| digest | \`${e.digest}\` |`);
  if (toc.prefetched) rows.push('| prefetch | before `.prefetch.landmark`: fetched before the container starts |');
  item.tooltip = new vscode.MarkdownString(rows.join('\n'));
  if (toc.type === 'reg' || toc.type === 'hardlink') item.command = openLazily(node);
  return item;
}

/** A zTOC's file: its size and the spans its data lies in; a click reads it through them. */
function ztocItem(node: Extract<Node, { kind: 'ztocEntry' }>): vscode.TreeItem {
  const { item: z } = node;
  const e = z.entry;
  const item = withIcon(new vscode.TreeItem(z.name, z.type === 'dir' ? Collapsed : None), TOC_ICONS[z.type]);
  const spans = z.spans ? (z.spans[0] === z.spans[1] ? `span ${z.spans[0]}` : `spans ${z.spans[0]}–${z.spans[1]}`) : '';
  const parts: string[] = [];
  if (z.type === 'reg') parts.push(formatBytes(e?.uncompressedSize ?? 0), spans || 'no data');
  if (z.type === 'symlink') parts.push(`→ ${e?.linkname ?? ''}`);
  if (z.type === 'hardlink') parts.push(`hard link → ${e?.linkname ?? ''}`);
  if (z.type === 'other') parts.push(e?.type ?? 'implied');
  item.description = parts.join(' · ');
  const rows = [`**${escapeMarkdown(z.path)}**`, '', '| | |', '|---|---|', `| type | ${e?.type ?? 'dir (implied by its contents)'} |`];
  if (e?.type === 'reg') rows.push(`| size | ${formatBytes(e.uncompressedSize)} (${e.uncompressedSize} bytes) |`, `| in the tar | bytes ${e.uncompressedOffset} to ${e.uncompressedOffset + e.uncompressedSize} |`, `| spans | ${spans || 'none'} |`);
  if (e?.linkname) rows.push(`| target | \`${e.linkname.replace(/[`|]/g, ' ')}\` |`);
  if (e) rows.push(`| mode | ${(e.mode & 0o7777).toString(8).padStart(4, '0')} |`, `| owner | ${e.uid}:${e.gid} |`, `| modified | ${e.modTime} |`);
  item.tooltip = new vscode.MarkdownString(rows.join('\n'));
  if (z.type === 'reg' || z.type === 'hardlink') item.command = openLazily(node);
  return item;
}

function openLazily(node: Node): vscode.Command {
  return { command: 'lazyImages.openLazyFile', title: 'Open File (lazy)', arguments: [node] };
}

const JOB_ICONS: Record<JobRecord['status'], string> = { running: 'sync~spin', succeeded: 'pass', failed: 'error', cancelled: 'circle-slash' };

function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

function withIcon(item: vscode.TreeItem, icon: string): vscode.TreeItem {
  item.iconPath = new vscode.ThemeIcon(icon);
  return item;
}

function markdown(...paragraphs: string[]): vscode.MarkdownString {
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

/** `application/vnd.oci.image.layer.v1.tar+gzip` -> `tar+gzip`. */
function shortMediaType(mediaType: string): string {
  return /\.(tar[^.]*)$/.exec(mediaType)?.[1] ?? mediaType;
}
