// Files of SOCI-indexed layers opened in the editor without pulling the layer (`lazyimg-file:`
// URIs, read-only): each read fetches only the spans holding the file, checks their digests,
// inflates them from their checkpoints, and says how much of the layer that fetched.
import * as vscode from 'vscode';
import { describeError } from '../core/errors.js';
import { cleanEntryName } from '../core/estargz/toc.js';
import { formatBytes } from '../core/format.js';
import { readZtocEntry, symlinkTarget } from '../core/jobs/index.js';
import { formatReference, parseReference, type Descriptor } from '../core/oci/index.js';
import type { ZtocEntry } from '../core/soci/ztoc.js';
import { shortName } from './commands/jobParams.js';
import type { Services } from './Services.js';
import type { LoadedZtoc, ZtocLayer } from './tree/layerTrees.js';
import type { TreeCache } from './tree/TreeCache.js';

export const LAZY_FILE_SCHEME = 'lazyimg-file';
const MAX_LINK_HOPS = 16;

/** What a `lazyimg-file:` URI's query carries: the layer, its zTOC and the file's path. */
interface FileQuery {
  ref: string;
  layer: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
  ztoc: Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;
  index: number;
  count: number;
  path: string;
}

export class LazyFiles implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  constructor(private readonly services: Services, private readonly ztocs: TreeCache<ZtocLayer, LoadedZtoc>) {}

  /** The URI of a file in a zTOC; its path (image, layer, file) is what the editor tab shows. */
  static uri(l: ZtocLayer, path: string): vscode.Uri {
    const descriptor = (d: Descriptor): FileQuery['layer'] => ({ mediaType: d.mediaType, digest: d.digest, size: d.size });
    const query: FileQuery = { ref: formatReference(l.ref), layer: descriptor(l.layer), ztoc: descriptor(l.ztoc), index: l.index, count: l.count, path };
    return vscode.Uri.from({ scheme: LAZY_FILE_SCHEME, path: `/${shortName(l.ref)}/layer ${l.index}/${path}`, query: JSON.stringify(query) });
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { entry } = await this.find(uri);
    const mtime = Date.parse(entry.modTime);
    return { type: vscode.FileType.File, ctime: 0, mtime: Number.isNaN(mtime) ? 0 : mtime, size: entry.uncompressedSize, permissions: vscode.FilePermission.Readonly };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { l, loaded, entry, path } = await this.find(uri);
    const where = `${formatReference(l.ref)} layer ${l.index}/${l.count}`;
    try {
      const store = await this.services.stores.open(l.ref);
      const read = await readZtocEntry(store, l.layer, loaded.spans, entry, where);
      const spans = read.spans.length === 0 ? 'no span' : read.spans.length === 1 ? `span ${read.spans[0]}` : `spans ${read.spans[0]}–${read.spans.at(-1)}`;
      const share = l.layer.size ? ` (${((100 * read.fetched) / l.layer.size).toFixed(1)}%)` : '';
      const message = `Read /${path} lazily through SOCI ${spans}: fetched ${formatBytes(read.fetched)} of the ${formatBytes(l.layer.size)} layer${share}.`;
      this.services.log.info(`${where}: ${message}`);
      void vscode.window.showInformationMessage(message);
      return read.bytes;
    } catch (e) {
      this.services.log.error(`${where} /${path}: ${describeError(e)}`);
      throw vscode.FileSystemError.Unavailable(describeError(e));
    }
  }

  /** The file's entry in its zTOC, following hard links and symbolic links inside the layer. */
  private async find(uri: vscode.Uri): Promise<{ l: ZtocLayer; loaded: LoadedZtoc; entry: ZtocEntry; path: string }> {
    let q: FileQuery;
    try {
      q = JSON.parse(uri.query) as FileQuery;
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    const l: ZtocLayer = { ref: parseReference(q.ref), layer: q.layer, ztoc: q.ztoc, index: q.index, count: q.count };
    const loaded = await this.ztocs.load(l);
    let path = cleanEntryName(q.path);
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const entry = loaded.tree.get(path)?.entry;
      if (!entry) throw vscode.FileSystemError.FileNotFound(`/${path} is not in layer ${l.index}/${l.count}`);
      if (entry.type === 'reg') return { l, loaded, entry, path };
      if (entry.type === 'hardlink') path = cleanEntryName(entry.linkname);
      else if (entry.type === 'symlink') path = symlinkTarget(path, entry.linkname);
      else throw vscode.FileSystemError.FileIsADirectory(`/${path} is a ${entry.type}, not a file`);
    }
    throw vscode.FileSystemError.FileNotFound(`more than ${MAX_LINK_HOPS} links from /${q.path}`);
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined); // layers never change
  }

  readDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.FileNotADirectory(uri);
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
