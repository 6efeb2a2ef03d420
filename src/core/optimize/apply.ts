// Applying one layer's tar onto a folder, as a container runtime does when it unpacks an image
// from the base up: an entry replaces what lower layers had at its path (a folder over a folder
// keeps the children), `.wh.NAME` removes NAME with its subtree, `.wh..wh..opq` empties a folder
// of what lower layers put there. Every parent is resolved inside the folder, so a symbolic link
// of the image never takes a later entry out of it. Devices and fifos are skipped (a container
// gets its /dev from the runtime) and xattrs are not set: Node has no call for either.
import { lutimes } from 'node:fs';
import { chmod, chown, lchown, link, mkdir, open, readdir, rm, symlink, utimes, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import { throwIfAborted } from '../errors.js';
import { decompressed, wrapDecompressError, type Compression } from '../estargz/index.js';
import { cleanEntryName, OPAQUE_WHITEOUT as OPAQUE, TarParser, WHITEOUT_PREFIX as WHITEOUT, type TarHeader } from '../tar/index.js';
import { lookupIn, resolveIn } from './rootPath.js';

const setLinkTimes = promisify(lutimes);

export interface ApplyOptions {
  /** Compressed size of the layer, which bounds what it may inflate to. */
  size?: number;
  signal?: AbortSignal;
  /** Compressed bytes read so far. */
  onRead?: (bytes: number) => void;
  /** Set owners (root only; otherwise everything stays the caller's, and folders stay writable to it). */
  owners: boolean;
}

export interface Applied {
  /** Clean paths the layer lists, whiteouts excepted: which layer provides a file is the topmost that lists it. */
  listed: Set<string>;
  /** Devices and fifos not created. */
  skipped: number;
}

type Event = { kind: 'entry'; header: TarHeader } | { kind: 'data'; chunk: Buffer };

export async function applyLayer(source: Readable, root: string, where: string, options: ApplyOptions): Promise<Applied> {
  const events: Event[] = [];
  const parser = new TarParser({
    entry: (header) => void events.push({ kind: 'entry', header }),
    data: (chunk) => void events.push({ kind: 'data', chunk }),
  }, where);
  const writer = new LayerWriter(root, where, options.owners);
  let compression: Compression = 'none';
  try {
    const opened = await decompressed(source, where, { size: options.size, onRead: options.onRead });
    compression = opened.compression;
    try {
      for await (const chunk of opened.stream) {
        throwIfAborted(options.signal, where);
        if (parser.ended) break;
        parser.push(chunk as Buffer);
        for (const event of events.splice(0)) await writer.handle(event);
      }
      parser.finish();
    } finally {
      opened.stream.destroy();
    }
    await writer.finish();
  } catch (e) {
    await writer.abort();
    throw wrapDecompressError(e, where, compression);
  }
  return { listed: writer.listed, skipped: writer.skipped };
}

/** Metadata calls left running while the next entries are written, before the layer waits for them. */
const MAX_PENDING = 256;

class LayerWriter {
  readonly listed = new Set<string>();
  skipped = 0;
  /** Paths this layer wrote: an opaque marker keeps them. */
  private readonly written = new Set<string>();
  /** Folders whose mode and times are set once the layer is done (writing children changes them). */
  private readonly folders: Array<{ full: string; header: TarHeader }> = [];
  /** Folders already resolved; forgotten whenever a link or a removal could change where a name leads. */
  private readonly folderCache = new Map<string, string>();
  /** The regular file being written. */
  private file: { handle: FileHandle; header: TarHeader; settled: Promise<unknown> } | undefined;
  /** Owners, modes and times being set: they change nothing later entries depend on, so nothing waits for them but the end. */
  private pending: Array<Promise<unknown>> = [];

  constructor(private readonly root: string, private readonly where: string, private readonly owners: boolean) {}

  async handle(event: Event): Promise<void> {
    if (event.kind === 'data') {
      if (this.file) await this.file.handle.write(event.chunk);
      return;
    }
    this.closeFile();
    if (this.pending.length > MAX_PENDING) await this.settle();
    const name = cleanEntryName(event.header.name);
    if (name === '') return; // the root folder is the runtime's
    const slash = name.lastIndexOf('/');
    const base = name.slice(slash + 1);
    const folder = slash < 0 ? '' : name.slice(0, slash);
    if (base.startsWith(WHITEOUT)) {
      // Markers remove what lower layers have; where the folder is not there, there is nothing to remove.
      const { path, entry } = await resolveIn(this.root, folder, this.where);
      if (path !== '' && entry?.type !== 'dir') return;
      await this.settle();
      if (base === OPAQUE) await this.opaque(path);
      else await this.remove(join(path, base.slice(WHITEOUT.length)));
      return;
    }
    this.listed.add(name);
    await this.write(join(await this.parent(folder), base), event.header);
  }

  async finish(): Promise<void> {
    this.closeFile();
    await this.settle();
    // Deepest first, so a folder's times are not undone by its children's.
    for (const { full, header } of this.folders.reverse()) {
      // Not root, the folder stays ours to write: a later layer adds to it, and the job removes it.
      await chmod(full, (header.mode & 0o7777) | (this.owners ? 0 : 0o700));
      await utimes(full, header.mtime.seconds, header.mtime.seconds);
    }
  }

  async abort(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await Promise.allSettled([...this.pending, file?.settled]);
    await file?.handle.close().catch(() => undefined);
  }

  private async settle(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    for (const result of await Promise.allSettled(pending)) if (result.status === 'rejected') throw result.reason;
  }

  /** The folder an entry goes in, links followed inside the root; created when the layer only implies it. */
  private async parent(path: string): Promise<string> {
    if (path === '') return '';
    const cached = this.folderCache.get(path);
    if (cached !== undefined) return cached;
    const { path: resolved, entry } = await resolveIn(this.root, path, this.where);
    if (entry?.type !== 'dir' && resolved !== '') {
      // A file where a folder should be: the later entry wins, as the runtimes have it.
      if (entry !== undefined) await this.remove(resolved);
      await mkdir(this.full(resolved), { recursive: true, mode: 0o755 });
    }
    this.folderCache.set(path, resolved);
    return resolved;
  }

  private async remove(path: string): Promise<void> {
    this.folderCache.clear();
    await this.settle();
    await rm(this.full(path), { recursive: true, force: true });
  }

  private async opaque(folder: string): Promise<void> {
    for (const child of await readdir(this.full(folder)).catch(() => [])) {
      const path = join(folder, child);
      if (!this.written.has(path)) await this.remove(path);
    }
  }

  /** Runs `create`; when something is already at the path (a lower layer's), removes it and runs it again. */
  private async replacing<T>(path: string, create: () => Promise<T>): Promise<T> {
    try {
      return await create();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    await this.remove(path);
    return create();
  }

  private async write(path: string, h: TarHeader): Promise<void> {
    const full = this.full(path);
    this.written.add(path);
    switch (h.type) {
      case 'dir': {
        const made = await mkdir(full, { mode: 0o700 }).then(() => true, async (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
          return (await lookupIn(this.root, path))?.type === 'dir';
        });
        if (!made) await this.replacing(path, () => mkdir(full, { mode: 0o700 }));
        if (this.owners) this.pending.push(chown(full, h.uid, h.gid));
        this.folders.push({ full, header: h });
        return;
      }
      case 'reg': {
        const handle = await this.replacing(path, () => open(full, 'wx', 0o600));
        // The mode after the owner: a change of owner clears the setuid and setgid bits.
        const settled = (this.owners ? handle.chown(h.uid, h.gid) : Promise.resolve()).then(() => handle.chmod(h.mode & 0o7777));
        this.file = { handle, header: h, settled };
        if (h.size === 0) this.closeFile();
        return;
      }
      case 'symlink':
        this.folderCache.clear();
        await this.replacing(path, () => symlink(h.linkname, full));
        this.pending.push((this.owners ? lchown(full, h.uid, h.gid) : Promise.resolve()).then(() => setLinkTimes(full, h.mtime.seconds, h.mtime.seconds)));
        return;
      case 'hardlink': {
        const target = cleanEntryName(h.linkname);
        const slash = target.lastIndexOf('/');
        const folder = slash < 0 ? '' : (await resolveIn(this.root, target.slice(0, slash), this.where)).path;
        const source = join(folder, target.slice(slash + 1));
        if ((await lookupIn(this.root, source))?.type !== 'reg') {
          this.listed.delete(cleanEntryName(h.name));
          return;
        }
        await this.replacing(path, () => link(this.full(source), full));
        return;
      }
      default:
        this.skipped++;
    }
  }

  /** Ends the file being written: its times (scripting runtimes compare them, Python's .pyc against its .py) once its data is in. */
  private closeFile(): void {
    const file = this.file;
    if (!file) return;
    this.file = undefined;
    const seconds = file.header.mtime.seconds;
    this.pending.push(file.settled.then(() => file.handle.utimes(seconds, seconds)).finally(() => file.handle.close()));
  }

  private full(path: string): string {
    return path === '' ? this.root : `${this.root}/${path}`;
  }
}

function join(folder: string, name: string): string {
  return folder === '' ? name : `${folder}/${name}`;
}
