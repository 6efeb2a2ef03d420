// The Lazy Images tree's elements: plain data with a `kind`, rendered by the tree provider.
import { TOC_DIGEST_ANNOTATION } from '../../core/estargz/verify.js';
import type { Descriptor, ImageReference } from '../../core/oci/index.js';
import type { JobRecord } from '../jobs/JobManager.js';
import type { TocItem } from './TocTree.js';

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
}

/** Nodes whose children come in pages with a "Load more...": listings, eStargz layers, TOC directories. */
export type PagedNode = Extract<Node, { kind: 'registry' | 'repository' | 'layer' | 'tocEntry' }>;

export function isPaged(node: Node | undefined): node is PagedNode {
  return node?.kind === 'registry' || node?.kind === 'repository' || node?.kind === 'layer' || node?.kind === 'tocEntry';
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
  return tokens.sort().join(';');
}
