// What every layer reader shares: its entries by clean path, folders implied by deeper names, path
// resolution inside the layer, and the checks before a file is read. The readers add how to list
// the entries and how to fetch a file's bytes.
import { LazyImageError } from '../errors.js';
import { count } from '../format.js';
import { MAX_FILE_BYTES } from '../limits.js';
import type { CallOptions, Descriptor } from '../oci/index.js';
import { cleanEntryName, followLinks } from '../tar/index.js';
import type { LayerCopy, LayerEntry, LayerFiles, LayerRead, ReadRange } from './layer.js';

const IMPLIED_DIR_MODE = 0o755;
/** What a copy reads at a time from a lazy layer: a few spans or chunks, not a whole file. */
const COPY_PIECE = 32 * 1024 * 1024;

export abstract class ListedLayer implements LayerFiles {
  abstract readonly via: LayerFiles['via'];
  private readonly byPath = new Map<string, LayerEntry>();

  /** `where` names the layer in messages: `oci:/x:v1 layer 2/3`. */
  constructor(readonly descriptor: Descriptor, readonly where: string) {}

  /** Adds an entry at its clean path, after the folders that only it implies; a later one replaces an earlier one. */
  protected add(entry: LayerEntry): void {
    if (entry.path === '') return; // the root's own entry
    const slash = entry.path.lastIndexOf('/');
    if (slash > 0 && !this.byPath.has(entry.path.slice(0, slash))) {
      this.add({ path: entry.path.slice(0, slash), type: 'dir', size: 0, mode: IMPLIED_DIR_MODE, uid: 0, gid: 0, linkname: '', implied: true });
    }
    this.byPath.delete(entry.path);
    this.byPath.set(entry.path, entry);
  }

  entries(): Iterable<LayerEntry> {
    return this.byPath.values();
  }

  entry(path: string): LayerEntry | undefined {
    return this.byPath.get(path);
  }

  async resolve(path: string): Promise<LayerEntry> {
    const found = await followLinks(path, (p) => this.byPath.get(p), this.where);
    if (found.path === '') return { path: '', type: 'dir', size: 0, mode: IMPLIED_DIR_MODE, uid: 0, gid: 0, linkname: '', implied: true };
    const entry = found.entry;
    if (!entry) throw new LazyImageError('NOT_FOUND', `${this.where} has no /${found.path}${found.path !== cleanEntryName(path) ? ` (from ${path})` : ''}`, { ref: this.where });
    return entry.type === 'hardlink' ? hardLinkTarget(this, entry, this.where) : entry;
  }

  async read(path: string, range?: ReadRange, options: CallOptions = {}): Promise<LayerRead> {
    return this.readEntry(await this.resolve(path), range, options);
  }

  async copy(path: string, write: (chunk: Buffer) => Promise<void>, options: CallOptions = {}): Promise<LayerCopy> {
    return this.copyEntry(await this.resolve(path), write, options);
  }

  async readEntry(entry: LayerEntry, range?: ReadRange, options: CallOptions = {}): Promise<LayerRead> {
    this.checkRegular(entry);
    const offset = range?.offset ?? 0;
    const length = range ? Math.min(range.length, Math.max(entry.size - offset, 0)) : entry.size;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new LazyImageError('INVALID_ARGUMENT', `${this.where}: cannot read ${range?.length} bytes at ${offset} of /${entry.path}`, { ref: this.where });
    }
    if (length > MAX_FILE_BYTES) throw new LazyImageError('INVALID_ARGUMENT', `${this.where}: /${entry.path} is ${entry.size} bytes; reading more than ${MAX_FILE_BYTES} at once is refused`, { ref: this.where });
    return length === 0 ? { bytes: Buffer.alloc(0), fetched: 0, via: 'nothing: no data' } : this.readData(entry, { offset, length }, options);
  }

  async copyEntry(entry: LayerEntry, write: (chunk: Buffer) => Promise<void>, options: CallOptions = {}): Promise<LayerCopy> {
    this.checkRegular(entry);
    return entry.size === 0 ? { length: 0, fetched: 0, via: 'nothing: no data' } : this.copyData(entry, write, options);
  }

  private checkRegular(entry: LayerEntry): void {
    if (entry.type === 'dir') throw new LazyImageError('INVALID_ARGUMENT', `${this.where}: /${entry.path} is a directory`, { ref: this.where });
    if (entry.type !== 'reg') throw new LazyImageError('INVALID_ARGUMENT', `${this.where}: /${entry.path} is a ${entry.type === 'symlink' || entry.type === 'hardlink' ? 'link' : `${entry.type} device or fifo`}, not a file`, { ref: this.where });
    if (this.byPath.get(entry.path) !== entry) throw new LazyImageError('INTERNAL', `${this.where}: /${entry.path} is not an entry of this layer`, { ref: this.where });
  }

  /** A non-empty regular file's bytes to `write`: read a piece at a time, each piece through `readData`. */
  protected async copyData(entry: LayerEntry, write: (chunk: Buffer) => Promise<void>, options: CallOptions): Promise<LayerCopy> {
    const reads: LayerRead[] = [];
    for (let offset = 0; offset < entry.size; offset += COPY_PIECE) {
      const read = await this.readData(entry, { offset, length: Math.min(COPY_PIECE, entry.size - offset) }, options);
      await write(read.bytes);
      reads.push({ ...read, bytes: Buffer.alloc(0) });
    }
    const spans = [...new Set(reads.flatMap((r) => r.spans ?? []))];
    const via = reads.length === 1 ? reads[0]!.via : `${count(reads.length, 'read')}: ${reads[0]!.via} … ${reads.at(-1)!.via}`;
    return { length: entry.size, fetched: reads.reduce((n, r) => n + r.fetched, 0), via, spans: spans.length ? spans : undefined };
  }

  /** The bytes of a regular file in `range`, which lies inside it and is not empty. */
  protected abstract readData(entry: LayerEntry, range: ReadRange, options: CallOptions): Promise<LayerRead>;
}

/** The file a hard link names: by its path from the root, in the link's own layer, as tar has it. */
export function findHardLinkTarget(files: Pick<LayerFiles, 'entry'>, link: LayerEntry): LayerEntry | undefined {
  const target = files.entry(cleanEntryName(link.linkname));
  return target?.type === 'reg' ? target : undefined;
}

/** As `findHardLinkTarget`; INVALID_FORMAT when the link names no file. */
export function hardLinkTarget(files: Pick<LayerFiles, 'entry'>, link: LayerEntry, where: string): LayerEntry {
  const target = findHardLinkTarget(files, link);
  if (!target) throw new LazyImageError('INVALID_FORMAT', `${where}: /${link.path} is a hard link to ${link.linkname}, which is not a file in the layer`, { ref: where });
  return target;
}
