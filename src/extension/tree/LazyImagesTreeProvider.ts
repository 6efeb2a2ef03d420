// The "Lazy Images" tree: registries -> repositories -> tags -> image (platforms) -> layers and
// SOCI indexes, and local OCI layouts -> images -> the same; an eStargz layer expands into its
// TOC's folders, a SOCI index into its zTOCs, a zTOC into its folders. Details load when a node
// expands; lists come in pages. getChildren never throws: failures become error nodes with a
// retry or log-in action. The Snapshotters section lists the remote snapshotter daemons on this
// machine, drawn from their last read status.
import * as vscode from 'vscode';
import { describeError, LazyImageError } from '../../core/errors.js';
import { laziness, layoutImage, listImages, type FoundSociIndex, type LayerLaziness } from '../../core/image/index.js';
import type { LayerFiles } from '../../core/lazy/index.js';
import { formatReference, type ImageDocument, type ImageStore, type NamePage } from '../../core/oci/index.js';
import { isSociIndexConfig, SOCI_INDEX_V2 } from '../../core/soci/index.js';
import type { JobManager } from '../jobs/JobManager.js';
import { SNAPSHOTTER_KINDS, type Snapshotters } from '../snapshotters/Snapshotters.js';
import type { Services } from '../Services.js';
import { childPath } from './FileTree.js';
import { loadLayer, type LayerSource } from './layerTrees.js';
import { nodeId, tocSource, type Node, type PagedNode } from './nodes.js';
import { Pager } from './Pager.js';
import { renderNode } from './render.js';
import { TreeCache } from './TreeCache.js';
import { LazyStatuses } from './LazyStatuses.js';

export class LazyImagesTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly pager = new Pager();
  /** The node objects VS Code holds, by id: it matches refreshed elements by identity. */
  private readonly shown = new Map<string, Node>();
  /** Lazy layers opened through their TOC or zTOC; "Open File (lazy)" reads through the same ones. */
  readonly layers: TreeCache;
  /** Whether each image row is lazy, read in the background for the rows drawn. */
  private readonly statuses: LazyStatuses;

  private readonly snapshotterChanges: vscode.Disposable;

  constructor(private readonly services: Services, private readonly jobs: JobManager, private readonly snapshotters: Snapshotters) {
    this.layers = new TreeCache((l) => loadLayer(services.stores, l, (line) => services.log.info(line)));
    this.statuses = new LazyStatuses(() => services.stores, (id) => this.changed.fire(this.shown.get(id)));
    // A daemon's row and the rows below it show its last status: redraw them when it changes.
    this.snapshotterChanges = snapshotters.onDidChange((daemon) => this.changed.fire(this.shown.get(`snapshotter:${daemon}`)));
  }

  /** Reloads a node (or an equal one, or the node with that id) and everything below it, or the whole tree. */
  refresh(node?: Node | string): void {
    const id = typeof node === 'string' ? node : node && nodeId(node);
    this.pager.reset(id);
    this.statuses.forget(id);
    this.changed.fire(id === undefined ? undefined : this.shown.get(id));
  }

  /** True once the Snapshotters section has been drawn. */
  showsSnapshotters(): boolean {
    return this.shown.has('snapshottersRoot');
  }

  /** Redraws the Jobs node, or the top level when the node comes or goes; nothing is read again. */
  jobsChanged(): void {
    const shown = this.jobs.jobs.length > 0 ? this.shown.get('jobsRoot') : undefined;
    if (!shown) this.shown.delete('jobsRoot'); // gone, or not drawn yet: the top level changes
    this.changed.fire(shown);
  }

  /** Fetches one more page of a registry's repositories or a repository's tags. */
  async loadMore(node: PagedNode): Promise<void> {
    await this.pager.list(nodeId(node), (last) => this.pages(node, last)).loadNext();
    this.changed.fire(this.shown.get(nodeId(node)));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const read = node.kind === 'image' && (node.row ?? 0) < this.services.settings.lazyStatusRows();
    const daemon = 'daemon' in node ? this.snapshotters.state(node.daemon) : undefined;
    if (node.kind === 'snapshotter' && !daemon) void this.snapshotters.read(node.daemon);
    const item = renderNode(node, node.kind === 'image' ? this.statuses.get(nodeId(node), node.ref, read) : undefined, daemon);
    this.shown.set(item.id as string, node);
    return item;
  }

  /** Each node's parent, for reveal: the one drawn, or one made from what the node knows. */
  getParent(node: Node): Node | undefined {
    const shown = (id: string): Node | undefined => this.shown.get(id);
    switch (node.kind) {
      case 'registriesRoot':
      case 'layoutsRoot':
      case 'jobsRoot':
      case 'snapshottersRoot':
        return undefined;
      case 'snapshotter':
        return { kind: 'snapshottersRoot' };
      case 'snapshotterPart':
        return shown(`snapshotter:${node.daemon}`);
      case 'remoteSnapshot':
        return shown(`snapshotter:${node.daemon}/snapshots`);
      case 'registry':
        return { kind: 'registriesRoot' };
      case 'layout':
        return { kind: 'layoutsRoot' };
      case 'job':
        return { kind: 'jobsRoot' };
      case 'repository':
      case 'addRepository':
        return shown(`registry:${node.host}`) ?? { kind: 'registry', host: node.host, loggedIn: false };
      case 'image': {
        const { ref } = node;
        return shown(node.parentId) ?? (ref.kind === 'registry' ? { kind: 'repository', host: ref.registry, repository: ref.repository } : { kind: 'layout', path: ref.path, label: ref.path });
      }
      case 'layerFile': {
        const slash = node.entry.path.lastIndexOf('/');
        return shown(slash < 0 ? node.rootId : `${node.rootId}/file:${node.entry.path.slice(0, slash)}`);
      }
      case 'loadMore':
      case 'error':
        return node.parent;
      default:
        return shown(node.parentId);
    }
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
      if (!hasRegistries && roots.length === 0 && !this.snapshotters.configured() && (await layouts.list()).length === 0) return [];
      return [{ kind: 'registriesRoot' }, { kind: 'layoutsRoot' }, { kind: 'snapshottersRoot' }, ...roots];
    }
    switch (node.kind) {
      case 'registriesRoot':
        return Promise.all(settings.registries().map(async (host): Promise<Node> => ({ kind: 'registry', host, loggedIn: await this.services.credentials.has(host) })));
      case 'layoutsRoot': {
        const found = await layouts.list();
        if (found.length === 0) return [{ kind: 'info', message: 'No OCI layout in this workspace', parentId: nodeId(node) }];
        return found.map((l) => ({ kind: 'layout', path: l.path, label: l.label, configured: l.configured }));
      }
      case 'registry': {
        const listed = await this.page(node, (repository) => ({ kind: 'repository', host: node.host, repository }));
        const names = new Set(listed.map((n) => (n.kind === 'repository' ? n.repository : '')));
        const manual = settings.repositories(node.host).filter((r) => !names.has(r));
        return [...manual.map((repository): Node => ({ kind: 'repository', host: node.host, repository })), ...listed];
      }
      case 'repository': {
        const parentId = nodeId(node);
        return this.page(node, (tag, row) => ({ kind: 'image', ref: { kind: 'registry', registry: node.host, repository: node.repository, tag }, label: tag, parentId, row }));
      }
      case 'layout':
        return this.layoutChildren(node);
      case 'jobsRoot':
        return this.jobs.jobs.map((record): Node => ({ kind: 'job', record }));
      case 'snapshottersRoot':
        return SNAPSHOTTER_KINDS.map((daemon): Node => ({ kind: 'snapshotter', daemon }));
      case 'snapshotter': {
        const status = (this.snapshotters.state(node.daemon) ?? (await this.snapshotters.read(node.daemon))).status;
        const parts = status?.health.healthy ? (['socket', 'config', 'metrics', 'snapshots'] as const) : (['socket', 'config', 'metrics'] as const);
        return parts.map((part): Node => ({ kind: 'snapshotterPart', daemon: node.daemon, part }));
      }
      case 'snapshotterPart': {
        const health = this.snapshotters.state(node.daemon)?.status?.health;
        if (node.part !== 'snapshots' || !health?.healthy) return [];
        return health.snapshots.filter((x) => x.remote).map((x): Node => ({ kind: 'remoteSnapshot', daemon: node.daemon, key: x.key, labels: x.labels }));
      }
      case 'image':
      case 'platform':
        return this.imageChildren(node);
      case 'layer': {
        const source = tocSource(node);
        if (!source) return [];
        const { layer } = await this.layers.load(source);
        const problems = layer.problems.map((p): Node => ({ kind: 'info', message: `The snapshotter refuses this layer: ${p}`, parentId: nodeId(node) }));
        return [...problems, ...await this.page(node, (name) => fileNode(source, nodeId(node), layer, name))];
      }
      case 'sociIndex': {
        const { index } = node.found;
        return node.layers.flatMap((layer): Node[] => {
          const ztoc = index?.ztocs.get(layer.descriptor.digest);
          return ztoc ? [{ kind: 'ztoc', source: { ref: node.ref, layer: layer.descriptor, index: layer.index, count: node.layers.length, lazy: { via: 'soci', ztoc } }, parentId: nodeId(node) }] : [];
        });
      }
      case 'ztoc': {
        const { layer } = await this.layers.load(node.source);
        return [{ kind: 'info', message: layer.summary, parentId: nodeId(node) }, ...await this.page(node, (name) => fileNode(node.source, nodeId(node), layer, name))];
      }
      case 'layerFile': {
        if (node.entry.type !== 'dir') return [];
        const { layer } = await this.layers.load(node.source);
        return this.page(node, (name) => fileNode(node.source, node.rootId, layer, childPath(node.entry.path, name)));
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
  private async page(node: PagedNode, toNode: (name: string, row: number) => Node): Promise<Node[]> {
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

  private async *pages(node: PagedNode, last: string | undefined): AsyncGenerator<NamePage> {
    const pageSize = this.services.settings.pageSize();
    const { stores, log } = this.services;
    switch (node.kind) {
      case 'layer':
        return yield* this.layers.pages(tocSource(node)!, '', pageSize, last);
      case 'ztoc':
        return yield* this.layers.pages(node.source, '', pageSize, last);
      case 'layerFile':
        return yield* this.layers.pages(node.source, node.entry.path, pageSize, last);
      case 'registry':
        log.info(`Listing repositories of ${node.host}`);
        return yield* stores.repositories(node.host, { pageSize, last });
      case 'repository': {
        log.info(`Listing tags of ${node.host}/${node.repository}`);
        const store = await stores.open({ kind: 'registry', registry: node.host, repository: node.repository });
        return yield* store.listTags({ pageSize, last });
      }
    }
  }

  private errorNode(parent: Node, e: unknown, retry: 'refresh' | 'loadMore'): Node {
    const host = hostOf(parent);
    const needsLogin = e instanceof LazyImageError && (e.code === 'UNAUTHORIZED' || e.code === 'DENIED');
    this.services.log.error(`${nodeId(parent)}: ${describeError(e)}`);
    return { kind: 'error', message: describeError(e), parent, needsLogin, retry, ...(host ? { host } : {}) };
  }

  private async layoutChildren(node: Extract<Node, { kind: 'layout' }>): Promise<Node[]> {
    await this.services.layouts.listing(node.path);
    const images = await listImages(await this.services.stores.open({ kind: 'oci-layout', path: node.path }));
    const parentId = nodeId(node);
    if (images.length === 0) return [{ kind: 'info', message: 'No images', parentId }];
    return images.map((m, row): Node => ({ kind: 'image', ...layoutImage(node.path, m), parentId, row }));
  }

  /** An index lists its platforms; a manifest its layers, then the SOCI indexes found for it. */
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
    if (doc.manifest.layers.length === 0) return [{ kind: 'info', message: 'No layers', parentId }];
    const ref = { ...node.ref, digest: doc.descriptor.digest };
    this.services.log.info(`Read manifest of ${formatReference(ref)}`);
    if (isSociIndexConfig(doc.manifest.config.mediaType)) return [{ kind: 'info', message: 'A SOCI index: it shows under the image it describes', parentId }];
    const { layers, extra } = await this.layersOf(node, store, doc);
    const count = layers.length;
    return [
      ...layers.map((layer): Node => ({ kind: 'layer', ref, layer, count, parentId })),
      ...extra.map((found): Node => ('kind' in found ? found : { kind: 'sociIndex', ref, found, layers, parentId })),
    ];
  }

  /** The image's layers with how each is lazy, and its SOCI indexes; failing to tell spoils neither the layers nor the tree. */
  private async layersOf(node: Node, store: ImageStore, doc: ImageDocument): Promise<{ layers: LayerLaziness[]; extra: Array<Node | FoundSociIndex> }> {
    try {
      const lazy = await laziness(store, doc);
      if (node.kind === 'image') this.statuses.set(nodeId(node), lazy); // its row's tooltip lists the layers now
      return { layers: lazy.layers, extra: lazy.sociIndexes };
    } catch (e) {
      const layers = doc.manifest.layers.map((descriptor, i): LayerLaziness => ({ descriptor, index: i + 1, reason: `unknown: ${describeError(e)}` }));
      return { layers, extra: [this.errorNode(node, e, 'refresh')] };
    }
  }

  dispose(): void {
    this.snapshotterChanges.dispose();
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
    case 'ztoc':
    case 'layerFile':
      return node.source.ref.kind === 'registry' ? node.source.ref.registry : undefined;
    default:
      return undefined;
  }
}

function fileNode(source: LayerSource, rootId: string, files: LayerFiles, path: string): Node {
  return { kind: 'layerFile', source, rootId, entry: files.entry(path)! };
}

const EMPTY: Record<PagedNode['kind'], string> = { registry: 'No repositories', repository: 'No tags', layer: 'Empty layer', ztoc: 'Empty layer', layerFile: 'Empty directory' };
