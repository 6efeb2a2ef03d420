// Files of lazily pullable layers opened in the editor without pulling the layer (`lazyimg-file:`
// URIs, read-only): a read goes through the layer's lazy reader, which fetches only what holds the
// file (a SOCI layer's spans, an eStargz layer's gzip members) and checks digests; a notification
// says how much of the layer that fetched.
import * as vscode from 'vscode';
import { describeError, LazyImageError } from '../core/errors.js';
import { formatBytes } from '../core/format.js';
import { formatReference, parseReference, type Descriptor } from '../core/oci/index.js';
import { shortName } from './commands/jobParams.js';
import { ReadOnlyFileSystem } from './ReadOnlyFileSystem.js';
import type { Services } from './Services.js';
import { sourceName, type LayerSource, type LoadedLayer } from './tree/layerTrees.js';
import type { TreeCache } from './tree/TreeCache.js';

export const LAZY_FILE_SCHEME = 'lazyimg-file';

type Ref = Pick<Descriptor, 'mediaType' | 'digest' | 'size'>;

/** What a `lazyimg-file:` URI's query carries: the layer, the index listing it, the file's path. */
interface FileQuery {
  ref: string;
  layer: Ref;
  /** The zTOC that lists the file; none for an eStargz layer, whose own TOC does. */
  ztoc?: Ref;
  /** 1-based. */
  index: number;
  count: number;
  path: string;
}

export class LazyFiles extends ReadOnlyFileSystem {

  constructor(private readonly services: Services, private readonly layers: TreeCache) {
    super();
  }

  /** The URI of a file in a layer; its path (image, layer, file) is what the editor tab shows. */
  static uri(s: LayerSource, path: string): vscode.Uri {
    const ref = (d: Descriptor): Ref => ({ mediaType: d.mediaType, digest: d.digest, size: d.size });
    const query: FileQuery = { ref: formatReference(s.ref), layer: ref(s.layer), ztoc: s.lazy.via === 'soci' ? ref(s.lazy.ztoc) : undefined, index: s.index, count: s.count, path };
    return vscode.Uri.from({ scheme: LAZY_FILE_SCHEME, path: `/${shortName(s.ref)}/layer ${s.index}/${path}`, query: JSON.stringify(query) });
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { source, path } = parse(uri);
    const entry = await this.call(source, path, async ({ layer }) => layer.resolve(path));
    if (entry.type !== 'reg') throw vscode.FileSystemError.FileIsADirectory(`/${entry.path} is a ${entry.type}, not a file`);
    const mtime = Date.parse(entry.modTime ?? '');
    return { type: vscode.FileType.File, ctime: 0, mtime: Number.isNaN(mtime) ? 0 : mtime, size: entry.size, permissions: vscode.FilePermission.Readonly };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { source, path } = parse(uri);
    const read = await this.call(source, path, ({ layer }) => layer.read(path));
    this.services.reads.record((await this.services.stores.open(source.ref)).name, source.layer.digest, read.fetched);
    const size = source.layer.size;
    const share = size ? ` (${((100 * read.fetched) / size).toFixed(1)}%)` : '';
    const message = `Read /${path} lazily through ${read.via}: fetched ${formatBytes(read.fetched)} of the ${formatBytes(size)} layer${share}.`;
    this.services.log.info(`${sourceName(source)}: ${message}`);
    void vscode.window.showInformationMessage(message);
    return read.bytes;
  }

  /** Runs `work` on the layer, turning failures into the file system errors the editor shows. */
  private async call<T>(source: LayerSource, path: string, work: (loaded: LoadedLayer) => Promise<T>): Promise<T> {
    try {
      return await work(await this.layers.load(source));
    } catch (e) {
      this.services.log.error(`${sourceName(source)} /${path}: ${describeError(e)}`);
      if (e instanceof LazyImageError && e.code === 'NOT_FOUND') throw vscode.FileSystemError.FileNotFound(describeError(e));
      if (e instanceof LazyImageError && e.code === 'INVALID_ARGUMENT') throw vscode.FileSystemError.FileIsADirectory(describeError(e));
      throw vscode.FileSystemError.Unavailable(describeError(e));
    }
  }

  readDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.FileNotADirectory(uri);
  }
}

/** The layer and path a URI names; a URI we did not make names nothing. */
function parse(uri: vscode.Uri): { source: LayerSource; path: string } {
  try {
    const q = JSON.parse(uri.query) as FileQuery;
    const source: LayerSource = { ref: parseReference(q.ref), layer: q.layer, index: q.index, count: q.count, lazy: q.ztoc ? { via: 'soci', ztoc: q.ztoc } : { via: 'estargz' } };
    return { source, path: q.path };
  } catch {
    throw vscode.FileSystemError.FileNotFound(uri);
  }
}
