// An OCI image layout directory (image-spec `image-layout.md`) as an ImageStore.
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FormatError, LazyImageError, throwIfAborted } from '../errors.js';
import { type Digest, VerifyingStream, parseDigest, sha256, verifyBytes } from './digest.js';
import { MAX_MANIFEST_BYTES } from '../limits.js';
import { parseManifest } from './manifest.js';
import { MediaType, isIndexMediaType, isManifestMediaType } from './mediaTypes.js';
import { OWN_PREFIX, sweepLeftovers, tempPath } from './leftovers.js';
import { withFileLock } from './lock.js';
import { checkRange } from './range.js';
import { syncDir, syncFile, writeNewFile } from './sync.js';
import type { AdoptBlobOptions, CallOptions, ImageStore, NamePage, PageOptions, PutBlobOptions, PutBlobResult } from './store.js';
import { ANNOTATION_REF_NAME, type Descriptor, type ImageIndex, type ManifestDocument } from './types.js';

const LAYOUT_FILE = 'oci-layout';
const LAYOUT_VERSION = '1.0.0';
/** Taken by every writer of index.json, in this process or another. */
export const LAYOUT_LOCK = `${OWN_PREFIX}index.lock`;

export interface OpenLayoutOptions {
  /**
   * Open to write: make a layout in a new or empty folder (never in a folder holding anything
   * else), and sweep the temporary files of writers that crashed.
   */
  create?: boolean;
}

const READ_CHUNK = 1024 * 1024;

export class OciLayoutStore implements ImageStore {
  readonly kind = 'oci-layout' as const;
  readonly name: string;

  private constructor(readonly dir: string) {
    this.name = `oci:${dir}`;
  }

  static async open(dir: string, options: OpenLayoutOptions = {}): Promise<OciLayoutStore> {
    const store = new OciLayoutStore(dir);
    await store.check(options);
    return store;
  }

  /**
   * Checks that the folder still holds a layout of the version we read (creating one if asked):
   * a store kept for later use calls this again each time it is handed out.
   */
  async check(options: OpenLayoutOptions = {}): Promise<void> {
    const marker = await this.readMarker();
    if (marker === undefined) {
      if (!options.create) {
        throw new LazyImageError('NOT_FOUND', `Cannot open OCI layout ${this.name}: no ${LAYOUT_FILE} file in ${this.dir}`, { ref: this.name });
      }
      await this.create();
    } else {
      this.checkVersion(marker);
    }
    if (options.create) await sweepLeftovers(this.dir, LAYOUT_LOCK).catch((e: unknown) => {
      throw ioError(`Cannot clean up ${this.name}`, e, this.name);
    });
  }

  private async readMarker(): Promise<string | undefined> {
    try {
      return await readFile(join(this.dir, LAYOUT_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw ioError(`Cannot open OCI layout ${this.name}`, e, this.name);
    }
  }

  private checkVersion(marker: string): void {
    let version: unknown;
    try {
      version = (JSON.parse(marker) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch {
      version = undefined;
    }
    if (version !== LAYOUT_VERSION) {
      throw new FormatError('INVALID_FORMAT', `Cannot open OCI layout ${this.name}: ${LAYOUT_FILE} must declare imageLayoutVersion "${LAYOUT_VERSION}"`, {
        format: 'oci-layout',
        ref: this.name,
      });
    }
  }

  /**
   * Makes the layout, under the lock: writers that start together into a new folder must not
   * take each other's first files for a folder that holds something else.
   */
  private async create(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (e) {
      throw ioError(`Cannot create OCI layout ${this.name}`, e, this.name);
    }
    await this.locked(async () => {
      const marker = await this.readMarker();
      if (marker !== undefined) return this.checkVersion(marker);
      const entries = await readdir(this.dir).catch((e: unknown) => {
        throw ioError(`Cannot create OCI layout ${this.name}`, e, this.name);
      });
      if (entries.some((n) => !n.startsWith(OWN_PREFIX))) {
        throw new LazyImageError('INVALID_ARGUMENT', `Cannot create OCI layout ${this.name}: ${this.dir} is not empty and has no ${LAYOUT_FILE} file, so it is not an image layout; name a new or empty folder, or a layout`, { ref: this.name });
      }
      try {
        await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
        await syncDir(join(this.dir, 'blobs'));
        await this.writeAtomic('index.json', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] })));
        // Last: its presence says the layout is whole.
        await this.writeAtomic(LAYOUT_FILE, Buffer.from(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })));
      } catch (e) {
        throw ioError(`Cannot create OCI layout ${this.name}`, e, this.name);
      }
    });
  }

  /** The layout's `index.json`, validated. */
  async readIndex(): Promise<ImageIndex> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dir, 'index.json'));
    } catch (e) {
      throw ioError(`Cannot read index.json of ${this.name}`, e, this.name);
    }
    const doc = parseManifest(bytes, MediaType.OciIndex, `index.json of ${this.name}`);
    if (doc.kind !== 'index') throw new FormatError('INVALID_FORMAT', `Invalid index.json of ${this.name}: not an image index`, { format: 'oci-layout', ref: this.name });
    return doc.index;
  }

  async resolve(tagOrDigest?: string): Promise<Descriptor> {
    const { manifests } = await this.readIndex();
    if (tagOrDigest === undefined || tagOrDigest === '') {
      if (manifests.length === 1 && manifests[0]) return manifests[0];
      const tags = manifests.map((m) => m.annotations?.[ANNOTATION_REF_NAME]).filter(Boolean);
      throw new LazyImageError('INVALID_REFERENCE', `${this.name} holds ${manifests.length} images; name one with :<tag> or @<digest>${tags.length ? ` (tags: ${tags.join(', ')})` : ''}`, { ref: this.name });
    }
    if (tagOrDigest.includes(':') && /^[a-z0-9]+:[a-f0-9]+$/.test(tagOrDigest)) {
      parseDigest(tagOrDigest);
      const listed = manifests.find((m) => m.digest === tagOrDigest);
      if (listed) return listed;
      // Not listed at the top (a platform manifest inside an index, say): describe it from its blob.
      const doc = await this.getManifest(tagOrDigest);
      return doc.descriptor;
    }
    const found = manifests.filter((m) => m.annotations?.[ANNOTATION_REF_NAME] === tagOrDigest);
    if (found.length === 0) throw new LazyImageError('NOT_FOUND', `Cannot resolve ${this.name}:${tagOrDigest}: no such tag`, { ref: `${this.name}:${tagOrDigest}` });
    return found[found.length - 1] as Descriptor;
  }

  async getManifest(descriptor: Descriptor | Digest): Promise<ManifestDocument> {
    const digest = typeof descriptor === 'string' ? descriptor : descriptor.digest;
    const where = `manifest ${digest} in ${this.name}`;
    const path = this.blobPath(digest);
    let bytes: Buffer;
    try {
      const info = await stat(path);
      if (info.size > MAX_MANIFEST_BYTES) throw new FormatError('INVALID_FORMAT', `Invalid ${where}: ${info.size} bytes is over the ${MAX_MANIFEST_BYTES}-byte limit`, { format: 'manifest', digest });
      bytes = await readFile(path);
    } catch (e) {
      if (e instanceof LazyImageError) throw e;
      throw ioError(`Cannot read ${where}`, e, this.name);
    }
    verifyBytes(bytes, { digest, ...(typeof descriptor === 'string' ? {} : { size: descriptor.size }) }, `Cannot read ${where}`);
    const doc = parseManifest(bytes, typeof descriptor === 'string' ? undefined : descriptor.mediaType, where);
    if (typeof descriptor !== 'string') doc.descriptor = { ...doc.descriptor, ...descriptor, mediaType: doc.descriptor.mediaType };
    return doc;
  }

  async putManifest(bytes: Buffer, mediaType: string, tag?: string, options: CallOptions = {}): Promise<Descriptor> {
    const descriptor: Descriptor = { mediaType, digest: sha256(bytes), size: bytes.length };
    parseManifest(bytes, mediaType, `manifest for ${this.name}`);
    const path = this.blobPath(descriptor.digest);
    if (!(await sizeIs(path, bytes.length))) await this.writeAtomic(this.relativeBlobPath(descriptor.digest), bytes);
    await this.updateIndex((index) => {
      if (tag === undefined) {
        return index.manifests.some((m) => m.digest === descriptor.digest) ? index : { ...index, manifests: [...index.manifests, descriptor] };
      }
      const others = index.manifests.filter((m) => m.annotations?.[ANNOTATION_REF_NAME] !== tag);
      return { ...index, manifests: [...others, { ...descriptor, annotations: { [ANNOTATION_REF_NAME]: tag } }] };
    }, options);
    return descriptor;
  }

  /** Drops the tag from index.json; the blobs stay (a layout has no garbage collector). */
  async deleteTag(tag: string, options: CallOptions = {}): Promise<void> {
    await this.updateIndex((index) => {
      const kept = index.manifests.filter((m) => m.annotations?.[ANNOTATION_REF_NAME] !== tag);
      if (kept.length === index.manifests.length) throw new LazyImageError('NOT_FOUND', `Cannot delete ${this.name}:${tag}: no such tag`, { ref: `${this.name}:${tag}` });
      return { ...index, manifests: kept };
    }, options);
  }

  async getBlob(descriptor: Descriptor, options: CallOptions = {}): Promise<Readable> {
    const path = this.blobPath(descriptor.digest);
    const where = `Cannot read blob ${descriptor.digest} in ${this.name}`;
    try {
      await stat(path);
    } catch (e) {
      throw ioError(where, e, this.name);
    }
    // 1 MiB reads: a twentieth of the default's calls, hash updates and messages to threads.
    const file = createReadStream(path, { highWaterMark: READ_CHUNK, signal: options.signal });
    const verify = new VerifyingStream(descriptor, where);
    file.on('error', (e) => verify.destroy(ioError(where, e, this.name)));
    // A reader that stops early destroys the stream: the file closes with it.
    verify.on('close', () => file.destroy());
    return file.pipe(verify);
  }

  async readBlobRange(descriptor: Descriptor, offset: number, length: number): Promise<Buffer> {
    const where = `Cannot read bytes ${offset}-${offset + length - 1} of blob ${descriptor.digest} in ${this.name}`;
    checkRange(descriptor, offset, length, where);
    let handle;
    try {
      handle = await open(this.blobPath(descriptor.digest), 'r');
    } catch (e) {
      throw ioError(where, e, this.name);
    }
    try {
      const buffer = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) throw new FormatError('INVALID_FORMAT', `${where}: the file ends early at ${offset + done}`, { format: 'blob', digest: descriptor.digest, offset: offset + done });
        done += bytesRead;
      }
      return buffer;
    } finally {
      await handle.close();
    }
  }

  async hasBlob(descriptor: Descriptor): Promise<boolean> {
    return sizeIs(this.blobPath(descriptor.digest), descriptor.size);
  }

  async putBlob(descriptor: Descriptor, openSource: () => Promise<Readable>, options: PutBlobOptions = {}): Promise<PutBlobResult> {
    if (await this.hasBlob(descriptor)) return 'existed';
    throwIfAborted(options.signal, this.name);
    const temp = tempPath(this.dir);
    const where = `Cannot write blob ${descriptor.digest} to ${this.name}`;
    let out: WriteStream | undefined;
    try {
      const source = await openSource();
      const verify = new VerifyingStream(descriptor, where);
      if (options.onProgress) {
        const onProgress = options.onProgress;
        let written = 0;
        verify.on('data', (chunk: Buffer) => onProgress((written += chunk.length)));
      }
      out = createWriteStream(temp, { flags: 'wx' });
      await pipeline(source, verify, out, options.signal ? { signal: options.signal } : {});
      await this.publishBlob(temp, descriptor.digest);
      return 'uploaded';
    } catch (e) {
      // A stream destroyed while still opening creates the file after the failure: wait for it.
      if (out && !out.closed) await once(out, 'close').catch(() => undefined);
      await rm(temp, { force: true });
      if (options.signal?.aborted) throw new LazyImageError('CANCELLED', 'Cancelled', { ref: this.name });
      if (e instanceof LazyImageError) throw e;
      throw ioError(where, e, this.name);
    }
  }

  async adoptBlobFile(descriptor: Descriptor, file: string, options: AdoptBlobOptions = {}): Promise<PutBlobResult> {
    options.verified?.catch(() => undefined); // awaited below, after the copy: not unhandled meanwhile
    if (await this.hasBlob(descriptor)) return 'existed';
    throwIfAborted(options.signal, this.name);
    const size = (await stat(file)).size;
    if (size !== descriptor.size) throw new LazyImageError('DIGEST_MISMATCH', `Cannot store ${file} as ${descriptor.digest} in ${this.name}: it has ${size} bytes, not ${descriptor.size}`, { ref: this.name });
    const temp = tempPath(this.dir);
    try {
      // A rename when the file may go and is on the same file system, else one kernel copy.
      if (options.keep) await copyFile(file, temp);
      else {
        await rename(file, temp).catch(async (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EXDEV') throw e;
          await copyFile(file, temp);
        });
      }
      await options.verified;
      await this.publishBlob(temp, descriptor.digest);
      return 'uploaded';
    } catch (e) {
      await rm(temp, { force: true });
      if (e instanceof LazyImageError) throw e;
      throw ioError(`Cannot store blob ${descriptor.digest} in ${this.name}`, e, this.name);
    }
  }

  async blobFile(descriptor: Descriptor): Promise<string | undefined> {
    const path = this.blobPath(descriptor.digest);
    return (await sizeIs(path, descriptor.size)) ? path : undefined;
  }

  /** Tags in name order, after `last`, `pageSize` at a time (all at once by default), from one read of `index.json`. */
  async *listTags(options: PageOptions = {}): AsyncIterable<NamePage> {
    const tags = [...new Set((await this.readIndex()).manifests.map((m) => m.annotations?.[ANNOTATION_REF_NAME]).filter((t): t is string => t !== undefined))].sort();
    let start = options.last === undefined ? 0 : tags.findIndex((t) => t > options.last!);
    if (start < 0) start = tags.length;
    const pageSize = options.pageSize ?? Math.max(tags.length, 1);
    do {
      const names = tags.slice(start, start + pageSize);
      start += pageSize;
      yield { names, last: start >= tags.length };
    } while (start < tags.length);
  }

  async listManifests(): Promise<Descriptor[]> {
    return (await this.readIndex()).manifests;
  }

  async referrers(digest: Digest, artifactType?: string): Promise<Descriptor[]> {
    const { manifests } = await this.readIndex();
    const found: Descriptor[] = [];
    for (const entry of manifests) {
      if (!isManifestMediaType(entry.mediaType) && !isIndexMediaType(entry.mediaType)) continue;
      // An entry that cannot be read refers to nothing; reading it where it is named says why.
      const doc = await this.getManifest(entry).catch((e: unknown) => {
        if (e instanceof LazyImageError && e.code !== 'IO' && e.code !== 'CANCELLED') return undefined;
        throw e;
      });
      if (!doc) continue;
      const body = doc.kind === 'index' ? doc.index : doc.manifest;
      if (body.subject?.digest !== digest) continue;
      const type = body.artifactType ?? (doc.kind === 'manifest' ? doc.manifest.config.mediaType : undefined);
      if (artifactType !== undefined && type !== artifactType) continue;
      found.push({
        mediaType: doc.descriptor.mediaType,
        digest: entry.digest,
        size: entry.size,
        ...(type ? { artifactType: type } : {}),
        ...(body.annotations ? { annotations: body.annotations } : {}),
      });
    }
    return found;
  }

  private relativeBlobPath(digest: Digest): string {
    const { algorithm, hex } = parseDigest(digest);
    return join('blobs', algorithm, hex);
  }

  private blobPath(digest: Digest): string {
    return join(this.dir, this.relativeBlobPath(digest));
  }

  /** Moves a complete blob file into place, flushed first, so a crash leaves it whole or absent. */
  private async publishBlob(temp: string, digest: Digest): Promise<void> {
    const path = this.blobPath(digest);
    await syncFile(temp);
    await mkdir(dirname(path), { recursive: true });
    await rename(temp, path);
    await syncDir(dirname(path));
  }

  /** Reads index.json, changes it and writes it back, holding the lock against other writers. */
  private updateIndex(change: (index: ImageIndex) => ImageIndex, options: CallOptions = {}): Promise<void> {
    return this.locked(async () => {
      const next = change(await this.readIndex());
      await this.writeAtomic('index.json', Buffer.from(JSON.stringify(next)));
    }, options);
  }

  private locked<T>(work: () => Promise<T>, options: CallOptions = {}): Promise<T> {
    return withFileLock(join(this.dir, LAYOUT_LOCK), work, { what: `index.json of ${this.name}`, signal: options.signal });
  }

  /** Writes a file so readers see the old or the new content, never a part, even after a crash. */
  private async writeAtomic(relative: string, data: Buffer): Promise<void> {
    const temp = tempPath(this.dir);
    const path = join(this.dir, relative);
    try {
      await writeNewFile(temp, data);
      await mkdir(dirname(path), { recursive: true });
      await rename(temp, path);
      await syncDir(dirname(path));
    } catch (e) {
      await rm(temp, { force: true });
      throw ioError(`Cannot write ${relative} in ${this.name}`, e, this.name);
    }
  }
}

async function sizeIs(path: string, size: number): Promise<boolean> {
  try {
    return (await stat(path)).size === size;
  } catch {
    return false;
  }
}

function ioError(message: string, cause: unknown, ref: string): LazyImageError {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new LazyImageError('NOT_FOUND', `${message}: no such file`, { ref, cause });
  if (code === 'ABORT_ERR') return new LazyImageError('CANCELLED', 'Cancelled', { ref, cause });
  return new LazyImageError('IO', `${message}: ${(cause as Error).message}`, { ref, cause });
}
