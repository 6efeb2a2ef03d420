// The Lazy Images tree's elements: plain data with a `kind`, rendered by the tree provider.
import type { FoundSociIndex, LayerLaziness } from '../../core/image/index.js';
import type { LayerEntry } from '../../core/lazy/index.js';
import type { Descriptor, ImageReference } from '../../core/oci/index.js';
import type { SnapshotterKind } from '../../core/snapshotter/index.js';
import type { JobRecord } from '../jobs/JobManager.js';
import type { LayerSource } from './layerTrees.js';

export type Node =
  | { kind: 'registriesRoot' }
  | { kind: 'layoutsRoot' }
  | { kind: 'jobsRoot' }
  | { kind: 'snapshottersRoot' }
  /** A remote snapshotter daemon on this machine; its rows below say where it is and what it does. */
  | { kind: 'snapshotter'; daemon: SnapshotterKind }
  | { kind: 'snapshotterPart'; daemon: SnapshotterKind; part: SnapshotterPart }
  /** A snapshot the daemon mounts lazily, as its List reports it. */
  | { kind: 'remoteSnapshot'; daemon: SnapshotterKind; key: string; labels: Record<string, string> }
  | { kind: 'job'; record: JobRecord }
  | { kind: 'registry'; host: string; loggedIn: boolean }
  | { kind: 'repository'; host: string; repository: string }
  | { kind: 'layout'; path: string; label: string; configured?: boolean }
  /** A tag (or untagged digest) of a repository or layout: the image itself. */
  | { kind: 'image'; ref: ImageReference; label: string; parentId: string; row?: number }
  | { kind: 'platform'; ref: ImageReference; descriptor: Descriptor; parentId: string }
  | LayerNode
  /** A SOCI index found for an image manifest (`ref` by digest) as the snapshotter finds it. */
  | { kind: 'sociIndex'; ref: ImageReference; found: FoundSociIndex; layers: LayerLaziness[]; parentId: string }
  | ZtocNode
  /** A file, folder or link of a lazy layer, from its TOC or zTOC; `rootId` is the layer's or zTOC's node. */
  | { kind: 'layerFile'; source: LayerSource; entry: LayerEntry; rootId: string }
  | { kind: 'loadMore'; parent: PagedNode }
  | { kind: 'addRepository'; host: string }
  | { kind: 'info'; message: string; parentId: string }
  /** A failure, in place of the children it stopped; its action logs in, or tries again. */
  | { kind: 'error'; message: string; parent: Node; host?: string; needsLogin: boolean; retry: 'refresh' | 'loadMore' };

export type SnapshotterPart = 'socket' | 'config' | 'metrics' | 'snapshots';

export interface LayerNode {
  kind: 'layer';
  /** The image manifest, by digest. */
  ref: ImageReference;
  layer: LayerLaziness;
  count: number;
  parentId: string;
}

/** A layer's zTOC, listed under its SOCI index; it expands into the zTOC's files. */
export interface ZtocNode {
  kind: 'ztoc';
  source: LayerSource & { lazy: { via: 'soci' } };
  parentId: string;
}

/** Nodes whose children come in pages with a "Load more...": listings, and layers' file trees. */
export type PagedNode = Extract<Node, { kind: 'registry' | 'repository' | 'layer' | 'ztoc' | 'layerFile' }>;

const PAGED = new Set<Node['kind']>(['registry', 'repository', 'layer', 'ztoc', 'layerFile']);

export function isPaged(node: Node | undefined): node is PagedNode {
  return node !== undefined && PAGED.has(node.kind);
}

/** An eStargz layer's files, through its own TOC; none for a layer that is not eStargz. */
export function tocSource(node: LayerNode): LayerSource | undefined {
  if (!node.layer.estargz) return undefined;
  return { ref: node.ref, layer: node.layer.descriptor, index: node.layer.index, count: node.count, lazy: { via: 'estargz' } };
}

/** The id of the node that lists an image: its repository, or its layout. */
/** The tree node of an image named outside the tree (a report, a job), to run a tree command on it. */
export function imageNode(ref: ImageReference, label = ref.tag ?? ref.digest ?? ''): Extract<Node, { kind: 'image' }> {
  return { kind: 'image', ref, label, parentId: imageParentId(ref) };
}

export function imageParentId(ref: ImageReference): string {
  return ref.kind === 'registry' ? nodeId({ kind: 'repository', host: ref.registry, repository: ref.repository }) : nodeId({ kind: 'layout', path: ref.path, label: ref.path });
}

/** A stable id per node, so VS Code keeps expansion state across refreshes. */
export function nodeId(node: Node): string {
  switch (node.kind) {
    case 'registriesRoot':
    case 'layoutsRoot':
    case 'jobsRoot':
    case 'snapshottersRoot':
      return node.kind;
    case 'snapshotter':
      return `snapshotter:${node.daemon}`;
    case 'snapshotterPart':
      return `snapshotter:${node.daemon}/${node.part}`;
    case 'remoteSnapshot':
      return `snapshotter:${node.daemon}/snapshot:${node.key}`;
    case 'job':
      return `job:${node.record.id}`;
    case 'registry':
      return `registry:${node.host}`;
    case 'repository':
      return `repository:${node.host}/${node.repository}`;
    case 'layout':
      return `layout:${node.path}`;
    case 'image':
      return `${node.parentId}/image:${node.label}`;
    case 'platform':
      return `${node.parentId}/platform:${node.descriptor.digest}`;
    case 'layer':
      return `${node.parentId}/layer:${node.layer.index}:${node.layer.descriptor.digest}`;
    case 'sociIndex':
      return `${node.parentId}/soci:${node.found.digest}`;
    case 'ztoc':
      return `${node.parentId}/ztoc:${node.source.lazy.ztoc.digest}`;
    case 'layerFile':
      return `${node.rootId}/file:${node.entry.path}`;
    case 'loadMore':
      return `${nodeId(node.parent)}/loadMore`;
    case 'addRepository':
      return `registry:${node.host}/addRepository`;
    case 'info':
      return `${node.parentId}/info:${node.message}`;
    case 'error':
      return `${nodeId(node.parent)}/error`;
  }
}

/**
 * `contextValue` as a sorted set of tokens joined by `;`. Menus match one token with an anchored
 * regex, `viewItem =~ /(^|;)registry(;|$)/`, so `registry` never matches `registriesRoot`.
 * `extra` are tokens of what the node shows, such as a daemon's `healthy`.
 */
export function contextValue(node: Node, extra: readonly string[] = []): string {
  const tokens: string[] = [node.kind, ...extra];
  if (node.kind === 'registry') tokens.push(node.loggedIn ? 'loggedIn' : 'anonymous');
  if (node.kind === 'error' && node.needsLogin) tokens.push('needsLogin');
  if (node.kind === 'job') tokens.push(node.record.status);
  if (node.kind === 'layer' && node.layer.estargz) tokens.push('estargz');
  if (node.kind === 'layer' && node.layer.soci) tokens.push('soci');
  if (node.kind === 'layerFile') tokens.push(node.source.lazy.via);
  if (node.kind === 'layout' && node.configured) tokens.push('configured');
  if (node.kind === 'image' && node.ref.tag !== undefined) tokens.push('tagged');
  // containerd pulls from registries only: Pull Lazily... shows on these.
  if ((node.kind === 'image' || node.kind === 'platform') && node.ref.kind === 'registry') tokens.push('inRegistry');
  if (node.kind === 'job' && node.record.status === 'succeeded' && node.record.reveals?.tag !== undefined) tokens.push('revealable');
  if (node.kind === 'layerFile' && (node.entry.type === 'reg' || node.entry.type === 'hardlink')) tokens.push('file');
  return tokens.sort().join(';');
}
