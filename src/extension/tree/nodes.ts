// The Lazy Images tree's elements: plain data with a `kind`, rendered by the tree provider.
import { TOC_DIGEST_ANNOTATION } from '../../core/estargz/verify.js';
import type { Descriptor, ImageReference } from '../../core/oci/index.js';
import type { SociIndex } from '../../core/soci/manifest.js';
import type { JobRecord } from '../jobs/JobManager.js';
import type { ZtocLayer } from './layerTrees.js';
import type { TocItem } from './TocTree.js';
import type { ZtocItem } from './ZtocTree.js';

export type Node =
  | { kind: 'registriesRoot' }
  | { kind: 'layoutsRoot' }
  | { kind: 'jobsRoot' }
  | { kind: 'job'; record: JobRecord }
  | { kind: 'registry'; host: string; loggedIn: boolean }
  | { kind: 'repository'; host: string; repository: string }
  | { kind: 'layout'; path: string; label: string }
  /** A tag (or untagged digest) of a repository or layout: the image itself. */
  | { kind: 'image'; ref: ImageReference; label: string; parentId: string }
  | { kind: 'platform'; ref: ImageReference; descriptor: Descriptor; parentId: string }
  | LayerNode
  /** A file, directory or link in an eStargz layer's TOC. */
  | { kind: 'tocEntry'; layer: LayerNode; item: TocItem }
  /** A SOCI index of an image manifest (`ref` by digest), found as the snapshotter finds it. */
  | { kind: 'sociIndex'; ref: ImageReference; index: SociIndex; layers: Descriptor[]; parentId: string }
  | ZtocNode
  /** A file, directory or link in a zTOC. */
  | { kind: 'ztocEntry'; ztoc: ZtocNode; item: ZtocItem }
  | { kind: 'loadMore'; parent: PagedNode }
  | { kind: 'addRepository'; host: string }
  | { kind: 'info'; message: string; parentId: string }
  /** A failure, in place of the children it stopped; its action logs in, or tries again. */
  | { kind: 'error'; message: string; parent: Node; host?: string; needsLogin: boolean; retry: 'refresh' | 'loadMore' };

export interface LayerNode {
  kind: 'layer';
  /** The image manifest, by digest. */
  ref: ImageReference;
  descriptor: Descriptor;
  index: number;
  count: number;
  parentId: string;
  /** Its zTOC, when a SOCI index of the image has one. */
  ztoc?: Descriptor;
}

/** A layer's zTOC, listed under its SOCI index; it expands into the zTOC's files. */
export interface ZtocNode {
  kind: 'ztoc';
  layer: ZtocLayer;
  parentId: string;
}

/** Nodes whose children come in pages with a "Load more...": listings, and layers' file trees. */
export type PagedNode = Extract<Node, { kind: 'registry' | 'repository' | 'layer' | 'tocEntry' | 'ztoc' | 'ztocEntry' }>;

const PAGED = new Set<Node['kind']>(['registry', 'repository', 'layer', 'tocEntry', 'ztoc', 'ztocEntry']);

export function isPaged(node: Node | undefined): node is PagedNode {
  return node !== undefined && PAGED.has(node.kind);
}

/** The layer's annotations say eStargz: its TOC can be browsed. */
export function isEstargz(node: LayerNode): boolean {
  return node.descriptor.annotations?.[TOC_DIGEST_ANNOTATION] !== undefined;
}

/** A stable id per node, so VS Code keeps expansion state across refreshes. */
export function nodeId(node: Node): string {
  switch (node.kind) {
    case 'registriesRoot':
    case 'layoutsRoot':
    case 'jobsRoot':
      return node.kind;
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
      return `${node.parentId}/layer:${node.index}:${node.descriptor.digest}`;
    case 'tocEntry':
      return `${nodeId(node.layer)}/toc:${node.item.path}`;
    case 'sociIndex':
      return `${node.parentId}/soci:${node.index.descriptor.digest}`;
    case 'ztoc':
      return `${node.parentId}/ztoc:${node.layer.ztoc.digest}`;
    case 'ztocEntry':
      return `${nodeId(node.ztoc)}/file:${node.item.path}`;
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
 */
export function contextValue(node: Node): string {
  const tokens: string[] = [node.kind];
  if (node.kind === 'registry') tokens.push(node.loggedIn ? 'loggedIn' : 'anonymous');
  if (node.kind === 'error' && node.needsLogin) tokens.push('needsLogin');
  if (node.kind === 'job') tokens.push(node.record.status);
  if (node.kind === 'layer' && isEstargz(node)) tokens.push('estargz');
  if (node.kind === 'layer' && node.ztoc) tokens.push('soci');
  if ((node.kind === 'ztocEntry' || node.kind === 'tocEntry') && (node.item.type === 'reg' || node.item.type === 'hardlink')) tokens.push('file');
  return tokens.sort().join(';');
}
