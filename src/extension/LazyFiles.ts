// Files of lazily pullable layers opened in the editor without pulling the layer (`lazyimg-file:`
// URIs, read-only): a read fetches only what holds the file (a SOCI layer's spans, inflated from
// their checkpoints; an eStargz layer's gzip members), checks digests, and says how much of the
// layer that fetched.
import * as vscode from 'vscode';
import { describeError } from '../core/errors.js';
import { cleanEntryName, type TocEntry } from '../core/estargz/toc.js';
import { formatBytes } from '../core/format.js';
import { readEstargzEntry, readZtocEntry, symlinkTarget } from '../core/jobs/index.js';
import { formatReference, parseReference, type Descriptor, type ImageReference } from '../core/oci/index.js';
import type { ZtocEntry } from '../core/soci/ztoc.js';
import { shortName } from './commands/jobParams.js';
import type { Services } from './Services.js';
import type { LoadedToc, LoadedZtoc, TocLayer, ZtocLayer } from './tree/layerTrees.js';
import type { TreeCache } from './tree/TreeCache.js';

export const LAZY_FILE_SCHEME = 'lazyimg-file';
const MAX_LINK_HOPS = 16;

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

/** A layer that can be read a file at a time, through the index that lists its files. */
export interface LazyLayer {
  ref: ImageReference;
  layer: Descriptor;
  ztoc?: Descriptor;
  index: number;
  count: number;
}

/** One layer's files as this provider needs them, whichever index lists them. */
interface LayerFiles {
  entry(path: string): { type: string; linkname: string; size: number; modTime?: string } | undefined;
  /** The file's bytes, with what was fetched for them. */
  read(path: string): Promise<{ bytes: Buffer; how: string; fetched: number }>;
}

export class LazyFiles implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  constructor(private readonly services: Services, private readonly tocs: TreeCache<TocLayer, LoadedToc>, private readonly ztocs: TreeCache<ZtocLayer, LoadedZtoc>) {}

  /** The URI of a file in a layer; its path (image, layer, file) is what the editor tab shows. */
  static uri(l: LazyLayer, path: string): vscode.Uri {
    const ref = (d: Descriptor): Ref => ({ mediaType: d.mediaType, digest: d.digest, size: d.size });
    const query: FileQuery = { ref: formatReference(l.ref), layer: ref(l.layer), ...(l.ztoc ? { ztoc: ref(l.ztoc) } : {}), index: l.index, count: l.count, path };
    return vscode.Uri.from({ scheme: LAZY_FILE_SCHEME, path: `/${shortName(l.ref)}/layer ${l.index}/${path}`, query: JSON.stringify(query) });
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { files, path } = await this.find(uri);
    const entry = files.entry(path)!;
    const mtime = Date.parse(entry.modTime ?? '');
    return { type: vscode.FileType.File, ctime: 0, mtime: Number.isNaN(mtime) ? 0 : mtime, size: entry.size, permissions: vscode.FilePermission.Readonly };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { files, path, where, layerSize } = await this.find(uri);
    try {
      const read = await files.read(path);
      const share = layerSize ? ` (${((100 * read.fetched) / layerSize).toFixed(1)}%)` : '';
      const message = `Read /${path} lazily through ${read.how}: fetched ${formatBytes(read.fetched)} of the ${formatBytes(layerSize)} layer${share}.`;
      this.services.log.info(`${where}: ${message}`);
      void vscode.window.showInformationMessage(message);
      return read.bytes;
    } catch (e) {
      this.services.log.error(`${where} /${path}: ${describeError(e)}`);
      throw vscode.FileSystemError.Unavailable(describeError(e));
    }
  }

  /** The file's layer and path, after hard links and symbolic links inside the layer. */
  private async find(uri: vscode.Uri): Promise<{ files: LayerFiles; path: string; where: string; layerSize: number }> {
    let q: FileQuery;
    try {
      q = JSON.parse(uri.query) as FileQuery;
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    const l: LazyLayer = { ref: parseReference(q.ref), layer: q.layer, ...(q.ztoc ? { ztoc: q.ztoc } : {}), index: q.index, count: q.count };
    const where = `${formatReference(l.ref)} layer ${l.index}/${l.count}`;
    const files = await this.open(l, where);
    let path = cleanEntryName(q.path);
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const entry = files.entry(path);
      if (!entry) throw vscode.FileSystemError.FileNotFound(`/${path} is not in layer ${l.index}/${l.count}`);
      if (entry.type === 'reg') return { files, path, where, layerSize: l.layer.size };
      if (entry.type === 'hardlink') path = cleanEntryName(entry.linkname);
      else if (entry.type === 'symlink') path = symlinkTarget(path, entry.linkname);
      else throw vscode.FileSystemError.FileIsADirectory(`/${path} is a ${entry.type}, not a file`);
    }
    throw vscode.FileSystemError.FileNotFound(`more than ${MAX_LINK_HOPS} links from /${q.path}`);
  }

  /** The layer's files through its zTOC, or through its own eStargz TOC. */
  private async open(l: LazyLayer, where: string): Promise<LayerFiles> {
    const store = await this.services.stores.open(l.ref);
    if (l.ztoc) {
      const { tree, spans } = await this.ztocs.load({ ...l, ztoc: l.ztoc });
      const entry = (path: string): ZtocEntry | undefined => tree.get(path)?.entry;
      return {
        entry: (path) => {
          const e = entry(path);
          return e && { type: e.type, linkname: e.linkname, size: e.uncompressedSize, modTime: e.modTime };
        },
        read: async (path) => {
          const read = await readZtocEntry(store, l.layer, spans, entry(path)!, where);
          const ids = read.spans;
          return { bytes: read.bytes, fetched: read.fetched, how: `SOCI ${ids.length === 0 ? 'no span' : ids.length === 1 ? `span ${ids[0]}` : `spans ${ids[0]}–${ids.at(-1)}`}` };
        },
      };
    }
    const { tree, layout } = await this.tocs.load({ ref: l.ref, descriptor: l.layer, index: l.index - 1 });
    const entry = (path: string): TocEntry | undefined => tree.get(path)?.entry;
    return {
      entry: (path) => {
        const e = entry(path);
        return e && { type: e.type, linkname: e.linkName ?? '', size: e.size ?? 0, ...(e.modtime ? { modTime: e.modtime } : {}) };
      },
      read: async (path) => {
        const read = await readEstargzEntry(store, l.layer, layout, entry(path)!, where);
        return { bytes: read.bytes, fetched: read.fetched, how: `${read.chunks} eStargz chunk${read.chunks === 1 ? '' : 's'}` };
      },
    };
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
