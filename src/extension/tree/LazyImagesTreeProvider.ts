// The "Lazy Images" tree: registries -> repositories -> tags -> image (platforms) -> layers and
// SOCI indexes, and local OCI layouts -> images -> the same; an eStargz layer expands into its
// TOC's folders, a SOCI index into its zTOCs, a zTOC into its folders. Details load when a node
// expands; lists come in pages. getChildren never throws: failures become error nodes with a
// retry or log-in action.
import * as vscode from 'vscode';
import { describeError, LazyImageError } from '../../core/errors.js';
import { findSociIndexes, layoutImages, type ResolvedImage } from '../../core/jobs/index.js';
import { listRepositories, listTags } from '../../core/registry/index.js';
import { formatBytes } from '../../core/format.js';
import { ANNOTATION_REF_NAME, OciLayoutStore, formatReference, parseDigest, type ImageReference, type ImageStore, type NamePage } from '../../core/oci/index.js';
import { SOCI_INDEX_V2 } from '../../core/soci/manifest.js';
import type { JobManager } from '../jobs/JobManager.js';
import type { Services } from '../Services.js';
import { childPath } from './FileTree.js';
import { readTocTree, readZtocTree, type LoadedToc, type LoadedZtoc, type TocLayer, type ZtocLayer } from './layerTrees.js';
import { isEstargz, nodeId, type LayerNode, type Node, type PagedNode, type ZtocNode } from './nodes.js';
import { Pager } from './Pager.js';
import { renderNode } from './render.js';
import { TreeCache } from './TreeCache.js';
import type { TocTree } from './TocTree.js';
import type { ZtocTree } from './ZtocTree.js';

export class LazyImagesTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly pager = new Pager();
  /** The node objects VS Code holds, by id: it matches refreshed elements by identity. */
  private readonly shown = new Map<string, Node>();
  /** eStargz TOCs and zTOCs by digest; "Open File (lazy)" reads through the same ones. */
  readonly tocs: TreeCache<TocLayer, LoadedToc>;
  readonly ztocs: TreeCache<ZtocLayer, LoadedZtoc>;

  constructor(private readonly services: Services, private readonly jobs: JobManager) {
    const log = (line: string): void => services.log.info(line);
    this.tocs = new TreeCache((l) => l.descriptor.digest, (l) => readTocTree(services.stores, l, log));
    this.ztocs = new TreeCache((l) => l.ztoc.digest, (l) => readZtocTree(services.stores, l, log));
  }

  /** Reloads a node (or an equal one, or the node with that id) and everything below it, or the whole tree. */
  refresh(node?: Node | string): void {
    const id = typeof node === 'string' ? node : node && nodeId(node);
    this.pager.reset(id);
    this.changed.fire(id === undefined ? undefined : this.shown.get(id));
  }

  /** Fetches one more page of a registry's repositories or a repository's tags. */
  async loadMore(node: PagedNode): Promise<void> {
    await this.pager.list(nodeId(node), (last) => this.pages(node, last)).loadNext();
    this.changed.fire(this.shown.get(nodeId(node)));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const item = renderNode(node);
    this.shown.set(item.id as string, node);
    return item;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    try {
      return await this.children(node);
    } catch (e) {
      if (!node) return [];
      const error = this.errorNode(node, e, 'refresh');
      if (node.kind === 'registry' && e instanceof LazyImageError && e.code === 'UNSUPPORTED') {
        return [...this.manualRepositories(node.host), error, { kind: 'addRepository', host: node.host }];
      }
      return [error];
    }
  }

  private async children(node: Node | undefined): Promise<Node[]> {
    const { settings, layouts } = this.services;
    if (!node) {
      const hasRegistries = settings.registries().length > 0;
      void vscode.commands.executeCommand('setContext', 'lazyImages.hasRegistries', hasRegistries);
      const roots: Node[] = this.jobs.jobs.length > 0 ? [{ kind: 'jobsRoot' }] : [];
      // Nothing configured, no layout around, no job: an empty tree shows the welcome view.
      if (!hasRegistries && roots.length === 0 && (await layouts.list()).length === 0) return [];
      return [{ kind: 'registriesRoot' }, { kind: 'layoutsRoot' }, ...roots];
    }
    switch (node.kind) {
      case 'registriesRoot':
        return Promise.all(settings.registries().map(async (host): Promise<Node> => ({ kind: 'registry', host, loggedIn: await this.services.credentials.has(host) })));
      case 'layoutsRoot': {
        const found = await layouts.list();
        if (found.length === 0) return [{ kind: 'info', message: 'No OCI layout in this workspace', parentId: nodeId(node) }];
        return found.map((l) => ({ kind: 'layout', path: l.path, label: l.label }));
      }
      case 'registry': {
        const listed = await this.page(node, (repository) => ({ kind: 'repository', host: node.host, repository }));
        const names = new Set(listed.map((n) => (n.kind === 'repository' ? n.repository : '')));
        const manual = settings.repositories(node.host).filter((r) => !names.has(r));
        return [...manual.map((repository): Node => ({ kind: 'repository', host: node.host, repository })), ...listed];
      }
      case 'repository': {
        const parentId = nodeId(node);
        return this.page(node, (tag) => ({ kind: 'image', ref: { kind: 'registry', registry: node.host, repository: node.repository, tag }, label: tag, parentId }));
      }
      case 'layout':
        return this.layoutChildren(node);
      case 'jobsRoot':
        return this.jobs.jobs.map((record): Node => ({ kind: 'job', record }));
      case 'image':
      case 'platform':
        return this.imageChildren(node);
      case 'layer': {
        if (!isEstargz(node)) return [];
        const { tree, problem } = await this.tocs.load(node);
        const entries = await this.page(node, (name) => tocNode(node, tree, '', name));
        return problem ? [{ kind: 'info', message: problem, parentId: nodeId(node) }, ...entries] : entries;
      }
      case 'tocEntry': {
        if (node.item.type !== 'dir') return [];
        const { tree } = await this.tocs.load(node.layer);
        return this.page(node, (name) => tocNode(node.layer, tree, node.item.path, name));
      }
      case 'sociIndex':
        return node.layers.flatMap((layer, i): Node[] => {
          const ztoc = node.index.ztocs.get(layer.digest);
          return ztoc ? [{ kind: 'ztoc', layer: { ref: node.ref, layer, ztoc, index: i + 1, count: node.layers.length }, parentId: nodeId(node) }] : [];
        });
      case 'ztoc': {
        const { tree, ztoc, spans } = await this.ztocs.load(node.layer);
        const summary = `${spans.spans.length} span${spans.spans.length === 1 ? '' : 's'} of ${formatBytes(spans.spanSize)} · ${ztoc.entries.length} entries · ${ztoc.buildToolIdentifier}`;
        return [{ kind: 'info', message: summary, parentId: nodeId(node) }, ...await this.page(node, (name) => ztocNode(node, tree, '', name))];
      }
      case 'ztocEntry': {
        if (node.item.type !== 'dir') return [];
        const { tree } = await this.ztocs.load(node.ztoc.layer);
        return this.page(node, (name) => ztocNode(node.ztoc, tree, node.item.path, name));
      }
      default:
        return [];
    }
  }

  private manualRepositories(host: string): Node[] {
    return this.services.settings.repositories(host).map((repository) => ({ kind: 'repository', host, repository }));
  }

  /**
   * The names fetched so far, then "Load more..." or, if the last page failed, an error node.
   * The first page is fetched on first expansion; a failed first page fails the whole node.
   */
  private async page(node: PagedNode, toNode: (name: string) => Node): Promise<Node[]> {
    const id = nodeId(node);
    const list = this.pager.list(id, (last) => this.pages(node, last));
    if (!list.started) await list.loadNext();
    if (list.error !== undefined && list.items.length === 0) {
      this.pager.reset(id); // Retry starts over
      throw list.error;
    }
    const nodes = list.items.map(toNode);
    if (list.error !== undefined) nodes.push(this.errorNode(node, list.error, 'loadMore'));
    else if (!list.done) nodes.push({ kind: 'loadMore', parent: node });
    else if (nodes.length === 0) nodes.push({ kind: 'info', message: EMPTY[node.kind], parentId: id });
    return nodes;
  }

  private pages(node: PagedNode, last: string | undefined): AsyncIterable<NamePage> {
    const pageSize = this.services.settings.pageSize();
    if (node.kind === 'layer') return this.tocs.pages(node, '', pageSize, last);
    if (node.kind === 'tocEntry') return this.tocs.pages(node.layer, node.item.path, pageSize, last);
    if (node.kind === 'ztoc') return this.ztocs.pages(node.layer, '', pageSize, last);
    if (node.kind === 'ztocEntry') return this.ztocs.pages(node.ztoc.layer, node.item.path, pageSize, last);
    const client = this.services.stores.client(node.host);
    const options = { pageSize, ...(last !== undefined ? { last } : {}) };
    this.services.log.info(node.kind === 'registry' ? `Listing repositories of ${node.host}` : `Listing tags of ${node.host}/${node.repository}`);
    return node.kind === 'registry' ? listRepositories(client, options) : listTags(client, node.repository, options);
  }

  private errorNode(parent: Node, e: unknown, retry: 'refresh' | 'loadMore'): Node {
    const host = hostOf(parent);
    const needsLogin = e instanceof LazyImageError && (e.code === 'UNAUTHORIZED' || e.code === 'DENIED');
    this.services.log.error(`${nodeId(parent)}: ${describeError(e)}`);
    return { kind: 'error', message: describeError(e), parent, needsLogin, retry, ...(host ? { host } : {}) };
  }

  private async layoutChildren(node: Extract<Node, { kind: 'layout' }>): Promise<Node[]> {
    const manifests = await layoutImages(await OciLayoutStore.open(node.path));
    const parentId = nodeId(node);
    if (manifests.length === 0) return [{ kind: 'info', message: 'No images', parentId }];
    return manifests.map((m): Node => {
      const tag = m.annotations?.[ANNOTATION_REF_NAME];
      const ref: ImageReference = tag ? { kind: 'oci-layout', path: node.path, tag } : { kind: 'oci-layout', path: node.path, digest: m.digest };
      return { kind: 'image', ref, label: tag ?? `@${parseDigest(m.digest).hex.slice(0, 12)}`, parentId };
    });
  }

  /** An index lists its platforms; a manifest its layers. */
  private async imageChildren(node: Extract<Node, { kind: 'image' | 'platform' }>): Promise<Node[]> {
    const store = await this.services.stores.open(node.ref);
    const doc = node.kind === 'platform'
      ? await store.getManifest(node.descriptor)
      : await store.getManifest(await store.resolve(node.ref.digest ?? node.ref.tag));
    const parentId = nodeId(node);
    if (doc.kind === 'index') {
      // SOCI v2 index descriptors show under the image manifest they describe, not as platforms.
      return doc.index.manifests.filter((d) => d.artifactType !== SOCI_INDEX_V2).map((descriptor): Node => ({ kind: 'platform', ref: { ...node.ref, digest: descriptor.digest }, descriptor, parentId }));
    }
    const { layers } = doc.manifest;
    if (layers.length === 0) return [{ kind: 'info', message: 'No layers', parentId }];
    const ref = { ...node.ref, digest: doc.descriptor.digest };
    this.services.log.info(`Read manifest of ${formatReference(ref)}`);
    const soci = await this.sociIndexes(store, node, ref, doc);
    const ztocs = new Map(soci.flatMap((n) => (n.kind === 'sociIndex' ? [...n.index.ztocs] : [])));
    return [
      ...layers.map((descriptor, index): Node => {
        const ztoc = ztocs.get(descriptor.digest);
        return { kind: 'layer', ref, descriptor, index, count: layers.length, parentId, ...(ztoc ? { ztoc } : {}) };
      }),
      ...soci,
    ];
  }

  /** The image's SOCI indexes after its layers; failing to find them spoils nothing else. */
  private async sociIndexes(store: ImageStore, node: Extract<Node, { kind: 'image' | 'platform' }>, ref: ImageReference, image: ResolvedImage['image']): Promise<Node[]> {
    try {
      const found = await findSociIndexes(store, { root: image, image });
      return found.indexes.map((index): Node => ({ kind: 'sociIndex', ref, index, layers: image.manifest.layers, parentId: nodeId(node) }));
    } catch (e) {
      return [this.errorNode(node, e, 'refresh')];
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function hostOf(node: Node): string | undefined {
  switch (node.kind) {
    case 'registry':
    case 'repository':
    case 'addRepository':
      return node.host;
    case 'image':
    case 'platform':
    case 'layer':
    case 'sociIndex':
      return node.ref.kind === 'registry' ? node.ref.registry : undefined;
    case 'tocEntry':
      return hostOf(node.layer);
    case 'ztoc':
      return node.layer.ref.kind === 'registry' ? node.layer.ref.registry : undefined;
    case 'ztocEntry':
      return hostOf(node.ztoc);
    default:
      return undefined;
  }
}

function tocNode(layer: LayerNode, tree: TocTree, dir: string, name: string): Node {
  const path = childPath(dir, name);
  return { kind: 'tocEntry', layer, item: tree.get(path) ?? { path, name, type: 'other', chunks: 0, prefetched: false } };
}

function ztocNode(ztoc: ZtocNode, tree: ZtocTree, dir: string, name: string): Node {
  const path = childPath(dir, name);
  return { kind: 'ztocEntry', ztoc, item: tree.get(path) ?? { path, name, type: 'other' } };
}

const EMPTY: Record<PagedNode['kind'], string> = { registry: 'No repositories', repository: 'No tags', layer: 'Empty layer', tocEntry: 'Empty directory', ztoc: 'Empty layer', ztocEntry: 'Empty directory' };
