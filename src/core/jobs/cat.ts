// `cat`: one file of an image, read the way a lazy snapshotter reads it. The layers are searched
// from the top (whiteouts and opaque directories hide lower ones); in a layer with a SOCI zTOC only
// the spans holding the file are fetched, each checked against its digest and inflated from its
// checkpoint; in an eStargz layer, only the gzip members of its chunks. A layer with neither is
// read whole, as the snapshotter would fetch it. Every byte fetched is counted.
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { LazyImageError, throwIfAborted } from '../errors.js';
import { describeLayout, type TocLayout } from '../estargz/layout.js';
import { openEstargz } from '../estargz/open.js';
import { cleanEntryName, type TocEntry } from '../estargz/toc.js';
import type { CallOptions, Descriptor, ImageStore, ManifestDocument, Platform } from '../oci/index.js';
import { entrySpans, type SpanTable } from '../soci/spans.js';
import { inflateFromCheckpoint } from '../soci/zinfo.js';
import type { Ztoc, ZtocEntry } from '../soci/ztoc.js';
import { TarParser } from '../tar/reader.js';
import { decompressed } from '../estargz/spool.js';
import { resolveImage } from './platforms.js';
import { findSociIndexes, readZtoc } from './soci.js';

const MAX_LINK_HOPS = 16;
/** A whole file is returned in memory: `cat` is for configs and scripts, not for layers' worth. */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

export interface CatResult {
  bytes: Buffer;
  /** The path read, after following symbolic links. */
  path: string;
  layer: Descriptor;
  /** 1-based, from the base. */
  index: number;
  via: 'soci' | 'estargz' | 'whole layer';
  /** Span ids (SOCI) fetched for the file. */
  spans?: number[];
  /** Every byte fetched from the store: manifests, indexes, zTOCs or TOCs, spans or members. */
  fetched: number;
}

interface ListedEntry {
  type: string;
  linkname: string;
  read: () => Promise<{ bytes: Buffer; spans?: number[] }>;
}

/** A layer's entries by cleaned name, as its lazy format lists them, and how to read each. */
interface Listing {
  via: CatResult['via'];
  names: Map<string, ListedEntry>;
}

export async function catFile(storeIn: ImageStore, tagOrDigest: string | undefined, path: string, options: { platform?: Platform; signal?: AbortSignal } = {}): Promise<CatResult> {
  const meter = { bytes: 0 };
  const store = metered(storeIn, meter);
  const call = options.signal ? { signal: options.signal } : {};
  const resolved = await resolveImage(store, tagOrDigest, 'Cannot read a file of', options);
  const { image } = resolved;
  const soci = await findSociIndexes(store, resolved, call);
  const ztocs = new Map<string, Descriptor>();
  for (const ix of soci.indexes) for (const [layer, z] of ix.ztocs) ztocs.set(layer, z);
  const layers = image.manifest.layers;
  const listings = new Map<number, Promise<Listing>>();
  const listing = (i: number): Promise<Listing> => {
    let l = listings.get(i);
    if (!l) {
      l = listLayer(store, layers[i]!, i, layers.length, ztocs.get(layers[i]!.digest), call);
      listings.set(i, l);
    }
    return l;
  };
  let wanted = cleanEntryName(path);
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    const found = await lookup(wanted, layers.length, listing, options.signal, store.name);
    if (!found) throw new LazyImageError('NOT_FOUND', `${store.name} has no file ${JSON.stringify(wanted)}`, { ref: store.name });
    const { i, entry, listed } = found;
    if (entry.type === 'symlink') {
      wanted = symlinkTarget(wanted, entry.linkname);
      continue;
    }
    let target = entry;
    if (entry.type === 'hardlink') {
      target = listed.names.get(cleanEntryName(entry.linkname)) ?? entry;
      if (target === entry) throw new LazyImageError('INVALID_FORMAT', `${store.name}: ${wanted} is a hard link to ${entry.linkname}, which is not in its layer`, { ref: store.name });
    }
    if (target.type === 'dir') throw new LazyImageError('INVALID_ARGUMENT', `${store.name}: ${wanted} is a directory`, { ref: store.name });
    if (target.type !== 'reg') throw new LazyImageError('INVALID_ARGUMENT', `${store.name}: ${wanted} is a ${target.type} device or fifo, not a file`, { ref: store.name });
    const { bytes, spans } = await target.read();
    return { bytes, path: wanted, layer: layers[i]!, index: i + 1, via: listed.via, ...(spans ? { spans } : {}), fetched: meter.bytes };
  }
  throw new LazyImageError('INVALID_FORMAT', `${store.name}: more than ${MAX_LINK_HOPS} symbolic links from ${path}`, { ref: store.name });
}

/** The clean path a symbolic link at `from` points at (absolute, or relative to its folder). */
export function symlinkTarget(from: string, linkname: string): string {
  return cleanEntryName(linkname.startsWith('/') ? linkname : `${from.split('/').slice(0, -1).join('/')}/${linkname}`);
}

/** The topmost layer holding `path`, unless a whiteout or an opaque directory above hides it. */
async function lookup(path: string, count: number, listing: (i: number) => Promise<Listing>, signal: AbortSignal | undefined, where: string): Promise<{ i: number; entry: ListedEntry; listed: Listing } | undefined> {
  const parts = path.split('/');
  for (let i = count - 1; i >= 0; i--) {
    throwIfAborted(signal, where);
    const listed = await listing(i);
    const entry = listed.names.get(path);
    if (entry) return { i, entry, listed };
    for (let k = 1; k <= parts.length; k++) {
      const dir = parts.slice(0, k - 1).join('/');
      const prefix = dir ? `${dir}/` : '';
      if (listed.names.has(`${prefix}.wh.${parts[k - 1]}`)) return undefined;
      if (k < parts.length && listed.names.has(`${prefix}${parts[k - 1]}/.wh..wh..opq`)) return undefined;
    }
  }
  return undefined;
}

async function listLayer(store: ImageStore, layer: Descriptor, i: number, count: number, ztoc: Descriptor | undefined, call: CallOptions): Promise<Listing> {
  const where = `${store.name} layer ${i + 1}/${count} (${layer.digest})`;
  if (ztoc) {
    const { ztoc: z, spans } = await readZtoc(store, ztoc, layer, where, call);
    return sociListing(store, layer, z, spans, where, call);
  }
  try {
    return await estargzListing(store, layer, where, call);
  } catch (e) {
    if (!(e instanceof LazyImageError) || e.code !== 'INVALID_FORMAT') throw e;
  }
  return wholeLayerListing(store, layer, where, call);
}

function sociListing(store: ImageStore, layer: Descriptor, z: Ztoc, table: SpanTable, where: string, call: CallOptions): Listing {
  const names = new Map<string, ListedEntry>();
  for (const e of z.entries) {
    names.set(cleanEntryName(e.name), { type: e.type, linkname: e.linkname, read: () => readZtocEntry(store, layer, table, e, where, call) });
  }
  return { via: 'soci', names };
}

/**
 * An entry's data, read through only the spans that hold it: fetched with one range read (spans
 * are contiguous), each checked against its digest and inflated from its checkpoint. `fetched`
 * counts the compressed bytes read.
 */
export async function readZtocEntry(store: ImageStore, layer: Descriptor, table: SpanTable, e: ZtocEntry, where: string, call: CallOptions = {}): Promise<{ bytes: Buffer; spans: number[]; fetched: number }> {
  if (e.uncompressedSize > MAX_FILE_BYTES) throw new LazyImageError('INVALID_ARGUMENT', `${where}: ${e.name} is ${e.uncompressedSize} bytes, over the ${MAX_FILE_BYTES}-byte limit for reading a file whole`);
  const range = entrySpans(table, e);
  if (!range) return { bytes: Buffer.alloc(0), spans: [], fetched: 0 };
  const [first, last] = [table.spans[range[0]]!, table.spans[range[1]]!];
  const fetched = await store.readBlobRange(layer, first.start, last.end - first.start, call);
  const pieces: Buffer[] = [];
  const ids: number[] = [];
  for (let id = range[0]; id <= range[1]; id++) {
    const span = table.spans[id]!;
    const compressed = fetched.subarray(span.start - first.start, span.end - first.start);
    const digest = `sha256:${createHash('sha256').update(compressed).digest('hex')}`;
    if (digest !== span.digest) throw new LazyImageError('DIGEST_MISMATCH', `${where}: span ${id} (bytes ${span.start}-${span.end - 1}) has digest ${digest}, but the zTOC says ${span.digest}`, { ref: where });
    const plain = span.checkpoint ? inflateFromCheckpoint(span.checkpoint, compressed, span.outEnd - span.outStart, `${where} span ${id}`) : compressed;
    const from = Math.max(e.uncompressedOffset, span.outStart) - span.outStart;
    const to = Math.min(e.uncompressedOffset + e.uncompressedSize, span.outEnd) - span.outStart;
    pieces.push(plain.subarray(from, to));
    ids.push(id);
  }
  return { bytes: Buffer.concat(pieces), spans: ids, fetched: fetched.length };
}

async function estargzListing(store: ImageStore, layer: Descriptor, where: string, call: CallOptions): Promise<Listing> {
  const opened = await openEstargz({ size: layer.size, read: (offset: number, length: number) => store.readBlobRange(layer, offset, length, call) }, where);
  const layout = describeLayout(opened.toc, opened.footer.tocOffset);
  const names = new Map<string, ListedEntry>();
  for (const e of opened.toc.entries) {
    if (e.type === 'chunk') continue;
    names.set(cleanEntryName(e.name), { type: e.type, linkname: e.linkName ?? '', read: () => readEstargzEntry(store, layer, layout, e, where, call) });
  }
  return { via: 'estargz', names };
}

/**
 * A regular file of an eStargz layer, read through only the gzip members that hold its chunks
 * (one range read: a file's members follow each other), each chunk checked against its digest.
 * `fetched` counts the compressed bytes read.
 */
export async function readEstargzEntry(store: ImageStore, layer: Descriptor, layout: TocLayout, e: TocEntry, where: string, call: CallOptions = {}): Promise<{ bytes: Buffer; chunks: number; fetched: number }> {
  const size = e.size ?? 0;
  if (size > MAX_FILE_BYTES) throw new LazyImageError('INVALID_ARGUMENT', `${where}: ${e.name} is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit for reading a file whole`);
  const name = cleanEntryName(e.name);
  const out = Buffer.alloc(size);
  const members = layout.members.map((m) => ({ m, mine: m.chunks.filter((x) => x.name === name) })).filter((x) => x.mine.length);
  if (!members.length) return { bytes: out, chunks: 0, fetched: 0 };
  const start = members[0]!.m.offset;
  const fetched = await store.readBlobRange(layer, start, members.at(-1)!.m.end - start, call);
  let chunks = 0;
  for (const { m, mine } of members) {
    const plain = gunzipSync(fetched.subarray(m.offset - start, m.end - start));
    for (const c of mine) {
      const piece = plain.subarray(c.innerOffset, c.innerOffset + c.length);
      if (c.digest && `sha256:${createHash('sha256').update(piece).digest('hex')}` !== c.digest) {
        throw new LazyImageError('DIGEST_MISMATCH', `${where}: the chunk of ${e.name} at ${c.chunkOffset} does not match its digest ${c.digest}`, { ref: where });
      }
      piece.copy(out, c.chunkOffset);
      chunks++;
    }
  }
  return { bytes: out, chunks, fetched: fetched.length };
}

/** No lazy index: the whole layer is read once, and the files are kept until the listing is dropped. */
async function wholeLayerListing(store: ImageStore, layer: Descriptor, where: string, call: CallOptions): Promise<Listing> {
  const names = new Map<string, ListedEntry>();
  const contents = new Map<string, Buffer[]>();
  let current: Buffer[] | undefined;
  const parser = new TarParser({
    entry: (h) => {
      current = h.type === 'reg' && h.size <= MAX_FILE_BYTES ? [] : undefined;
      const name = cleanEntryName(h.name);
      if (current) contents.set(name, current);
      names.set(name, { type: h.type, linkname: h.linkname, read: async () => ({ bytes: Buffer.concat(contents.get(name) ?? []) }) });
    },
    data: (chunk) => current?.push(Buffer.from(chunk)),
  }, where);
  const { stream } = await decompressed(await store.getBlob(layer, call), where, {});
  for await (const chunk of stream) if (!parser.ended) parser.push(chunk as Buffer);
  parser.finish();
  return { via: 'whole layer', names };
}

/** The store, counting the bytes of every manifest, blob and range read through it. */
function metered(store: ImageStore, meter: { bytes: number }): ImageStore {
  const wrapped = Object.create(store) as ImageStore;
  wrapped.getManifest = async (d, o) => {
    const doc: ManifestDocument = await store.getManifest(d, o);
    meter.bytes += doc.bytes.length;
    return doc;
  };
  wrapped.readBlobRange = async (d, offset, length, o) => {
    const b = await store.readBlobRange(d, offset, length, o);
    meter.bytes += b.length;
    return b;
  };
  wrapped.getBlob = async (d, o) => {
    const s = await store.getBlob(d, o);
    s.on('data', (c: Buffer) => (meter.bytes += c.length));
    return s;
  };
  return wrapped;
}
