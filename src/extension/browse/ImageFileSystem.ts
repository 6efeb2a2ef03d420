// A remote image's root filesystem, as its container sees it, as a read-only folder (`lazyimg:`
// URIs): listings come from the layers' TOCs and zTOCs, and a file read fetches only the chunks or
// spans that hold it. Symbolic links resolve inside the image, never on this machine.
import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import { describeError, LazyImageError } from '../../core/errors.js';
import { imageLaziness } from '../../core/image/index.js';
import { MergedTree, type MergedEntry } from '../../core/lazy/index.js';
import { formatReference, parseReference, type ImageReference } from '../../core/oci/index.js';
import { followLinks } from '../../core/tar/index.js';
import { ReadOnlyFileSystem } from '../ReadOnlyFileSystem.js';
import type { Services } from '../Services.js';
import { ByteCache } from './ByteCache.js';

export const IMAGE_SCHEME = 'lazyimg';
/** Images browsed in any window, by URI authority, so a folder added earlier opens after a reload. */
const BROWSED_KEY = 'lazyImages.browsedImages';
/** File contents kept for the window: enough for the files someone reads, not a layer's worth. */
const CACHE_BYTES = 64 * 1024 * 1024;

/** One image's tree, and the gaps (unlisted layers) already shown to the user. */
interface Opened {
  ref: ImageReference;
  /** Its store's name, which lazy reads are recorded under. */
  store: string;
  tree: MergedTree;
}

export class ImageFileSystem extends ReadOnlyFileSystem {
  private readonly fetchedEmitter = new vscode.EventEmitter<vscode.Uri>();
  /** A read fetched bytes of an image (its root URI). */
  readonly onDidFetch = this.fetchedEmitter.event;
  private readonly opened = new Map<string, Promise<Opened>>();
  private readonly cache = new ByteCache(CACHE_BYTES);

  constructor(private readonly services: Services, private readonly state: vscode.Memento, private readonly onGaps: (ref: ImageReference, tree: MergedTree) => void) {
    super();
  }

  /** The root of an image's folder; the authority is a digest of its reference, so any reference fits a URI. */
  async root(ref: ImageReference): Promise<vscode.Uri> {
    const reference = formatReference(ref);
    const id = createHash('sha256').update(reference).digest('hex').slice(0, 16);
    const browsed = this.state.get<Record<string, string>>(BROWSED_KEY, {});
    if (browsed[id] !== reference) await this.state.update(BROWSED_KEY, { ...browsed, [id]: reference });
    return vscode.Uri.from({ scheme: IMAGE_SCHEME, authority: id, path: '/' });
  }

  /** The image a `lazyimg:` URI belongs to, and its tree, opened on first use. */
  image(uri: vscode.Uri): Promise<Opened> {
    let opened = this.opened.get(uri.authority);
    if (!opened) {
      opened = this.open(uri.authority);
      this.opened.set(uri.authority, opened);
      // A failed open is tried again next time (the registry may be back).
      opened.catch(() => this.opened.delete(uri.authority));
    }
    return opened;
  }

  private async open(id: string): Promise<Opened> {
    const reference = this.state.get<Record<string, string>>(BROWSED_KEY, {})[id];
    if (!reference) throw vscode.FileSystemError.FileNotFound(`No image is known as ${id}: browse it again from the Lazy Images view`);
    const ref = parseReference(reference);
    const store = await this.services.stores.open(ref);
    const image = await imageLaziness(store, ref.digest ?? ref.tag);
    const tree = await MergedTree.open(store, image, reference);
    this.services.log.info(`Browsing ${reference}: ${[...tree.entries()].length} paths from ${image.layers.length - tree.gaps.length} of ${image.layers.length} layers`);
    if (tree.gaps.length) this.onGaps(ref, tree);
    return { ref, store: store.name, tree };
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { tree } = await this.call(uri);
    const entry = tree.stat(pathOf(uri));
    if (!entry) throw vscode.FileSystemError.FileNotFound(uri);
    const type = await this.fileType(tree, entry);
    const mtime = Date.parse(entry.modTime ?? '');
    return { type, ctime: 0, mtime: Number.isNaN(mtime) ? 0 : mtime, size: entry.type === 'reg' ? entry.size : 0, permissions: vscode.FilePermission.Readonly };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const { tree } = await this.call(uri);
    const children = await this.guard(uri, () => tree.list(pathOf(uri)));
    return Promise.all(children.map(async (e): Promise<[string, vscode.FileType]> => [e.path.slice(e.path.lastIndexOf('/') + 1), await this.fileType(tree, e)]));
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { store, tree } = await this.call(uri);
    const path = pathOf(uri);
    const key = `${uri.authority}/${path}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const read = await this.guard(uri, () => tree.read(path));
    this.services.reads.record(store, read.layer.descriptor.digest, read.fetched);
    this.cache.set(key, read.bytes);
    this.fetchedEmitter.fire(uri.with({ path: '/' }));
    return read.bytes;
  }

  /** A symbolic link's type is its target's, inside the image; one that leads nowhere is a link to nothing. */
  private async fileType(tree: MergedTree, entry: MergedEntry): Promise<vscode.FileType> {
    if (entry.type !== 'symlink') return entry.type === 'dir' ? vscode.FileType.Directory : entry.type === 'reg' ? vscode.FileType.File : vscode.FileType.Unknown;
    const target = await followLinks(entry.path, (p) => tree.stat(p), '').catch(() => undefined);
    const kind = target?.entry?.type === 'dir' ? vscode.FileType.Directory : target?.entry?.type === 'reg' ? vscode.FileType.File : vscode.FileType.Unknown;
    return vscode.FileType.SymbolicLink | kind;
  }

  private async call(uri: vscode.Uri): Promise<Opened> {
    return this.guard(uri, () => this.image(uri));
  }

  /** Core errors as the file errors the explorer and editors understand, with the core's message. */
  private async guard<T>(uri: vscode.Uri, run: () => T | Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (e instanceof vscode.FileSystemError) throw e;
      if (e instanceof LazyImageError && e.code === 'NOT_FOUND') throw vscode.FileSystemError.FileNotFound(e.message);
      if (e instanceof LazyImageError && e.code === 'INVALID_ARGUMENT') throw vscode.FileSystemError.FileNotADirectory(e.message);
      this.services.log.error(`${uri.toString()}: ${describeError(e)}`);
      throw vscode.FileSystemError.Unavailable(describeError(e));
    }
  }

  override dispose(): void {
    super.dispose();
    this.fetchedEmitter.dispose();
  }
}

/** The clean path inside the image: `/usr/bin/env` is `usr/bin/env`, the root ''. */
export function pathOf(uri: vscode.Uri): string {
  return uri.path.replace(/^\/+|\/+$/g, '');
}
