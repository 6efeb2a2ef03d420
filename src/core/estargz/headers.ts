// The deep check of an eStargz layer: the blob before the TOC, read once and inflated as one
// stream of gzip members, is parsed as tar, and each tar header must say what its TOC entry says
// (name, type, mode, size, link target, ids, times, devices, xattrs), and each file's content must
// hash to its whole-file digest. The snapshotter serves files from the TOC alone; a TOC that
// disagrees with the headers gives a lazily pulled container other files than a full pull does.
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describeError, LazyImageError } from '../errors.js';
import type { BlobAccess } from '../oci/index.js';
import { TarParser, type TarHeader } from '../tar/index.js';
import { decompressed } from './spool.js';
import { formatModtime, type Toc, type TocEntry } from './toc.js';

/** Compressed bytes per Range read. */
const READ_SPAN = 8 * 1024 * 1024;

export interface HeaderCheck {
  /** TOC entries whose tar header (and content digest) matched. */
  checked: number;
  /** The first difference, with how many more there are. */
  problems: string[];
}

export async function verifyTarHeaders(blob: BlobAccess, toc: Toc, tocOffset: number, where: string, options: { signal?: AbortSignal | undefined; onProgress?: ((done: number, total: number) => void) | undefined } = {}): Promise<HeaderCheck> {
  const entries = toc.entries.filter((e) => e.type !== 'chunk');
  const differences: string[] = [];
  let checked = 0;
  let next = 0;
  let file: { entry: TocEntry; hash: Hash } | undefined;
  let wrong = false;
  const close = (): void => {
    if (file) {
      const digest = `sha256:${file.hash.digest('hex')}`;
      if (digest !== file.entry.digest) {
        differences.push(`TOC entry ${show(file.entry.name)}: digest is ${file.entry.digest}, the file's content in the layer hashes to ${digest}`);
        wrong = true;
      }
    }
    if (next > 0 && !wrong) checked++;
    file = undefined;
  };
  const parser = new TarParser({
    entry(h) {
      close();
      const e = entries[next++];
      if (!e) {
        differences.push(`the layer's tar has entry ${show(h.name)} after the TOC's last entry`);
        wrong = true;
        return;
      }
      const found = [...headerDifferences(e, h)];
      differences.push(...found);
      wrong = found.length > 0;
      if (e.type === 'reg' && e.digest) file = { entry: e, hash: createHash('sha256') };
    },
    data(chunk) {
      file?.hash.update(chunk);
    },
  }, where);
  async function* reads(): AsyncGenerator<Buffer> {
    for (let at = 0; at < tocOffset; at += READ_SPAN) {
      yield await blob.read(at, Math.min(READ_SPAN, tocOffset - at));
      options.onProgress?.(Math.min(at + READ_SPAN, tocOffset), tocOffset);
    }
  }
  try {
    // Bounded like any whole-layer inflate: a bomb before the TOC fails here, not after 10 GB.
    const { stream } = await decompressed(Readable.from(reads()), where, { size: tocOffset });
    await pipeline(stream, async (inflated: AsyncIterable<Buffer>) => {
      for await (const chunk of inflated) parser.push(chunk);
    }, { signal: options.signal });
    parser.finish();
    close();
  } catch (e) {
    if (options.signal?.aborted || (e instanceof LazyImageError && e.code !== 'INVALID_FORMAT')) throw e;
    const why = e instanceof LazyImageError ? e.message.slice(where.length + 2) : describeError(e);
    return { checked, problems: [`the layer before its TOC does not read as gzip members holding a tar: ${why}`] };
  }
  for (const e of entries.slice(next)) differences.push(`TOC entry ${show(e.name)} has no tar entry in the layer`);
  const more = differences.length > 1 ? ` (and ${differences.length - 1} more ${differences.length > 2 ? 'differences' : 'difference'})` : '';
  return { checked, problems: differences.length ? [`${differences[0]!}${more}`] : [] };
}

/** How a TOC entry differs from the tar header it stands for, a sentence each. */
function* headerDifferences(e: TocEntry, h: TarHeader): Generator<string> {
  const label = `TOC entry ${show(e.name)}`;
  const differ = (field: string, toc: unknown, tar: unknown, format: (v: unknown) => string = show): string | undefined =>
    toc === tar ? undefined : `${label}: ${field} is ${format(toc)}, the tar header in the layer says ${format(tar)}`;
  const link = e.type === 'symlink' || e.type === 'hardlink';
  const device = e.type === 'char' || e.type === 'block';
  const found = [
    e.name === h.name ? undefined : `${label}: the tar header in the layer names it ${show(h.name)}`,
    differ('type', e.type, h.type),
    e.type === 'reg' ? differ('size', e.size ?? 0, h.size) : undefined,
    differ('mode', e.mode ?? 0, h.mode, (v) => `0${(v as number).toString(8)}`),
    link ? differ('link target', e.linkName ?? '', h.linkname) : undefined,
    differ('uid', e.uid ?? 0, h.uid),
    differ('gid', e.gid ?? 0, h.gid),
    // Written only where the name changes, so only a name the TOC gives can be wrong.
    e.userName === undefined ? undefined : differ('user name', e.userName, h.uname),
    e.groupName === undefined ? undefined : differ('group name', e.groupName, h.gname),
    differ('modification time', e.modtime ?? '', formatModtime(h.mtime.seconds, h.mtime.nanos) ?? ''),
    device ? differ('device major', e.devMajor ?? 0, h.devmajor) : undefined,
    device ? differ('device minor', e.devMinor ?? 0, h.devminor) : undefined,
    differ('xattrs', xattrText(e.xattrs), xattrText(h.xattrs), String),
  ];
  for (const d of found) if (d) yield d;
}

function xattrText(xattrs: Map<string, Buffer> | undefined): string {
  const keys = [...(xattrs?.keys() ?? [])].sort();
  return keys.length ? keys.map((k) => `${k}=${xattrs!.get(k)!.toString('base64')}`).join(', ') : '(none)';
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}
