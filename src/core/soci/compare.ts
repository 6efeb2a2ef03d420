// A published zTOC against the one our indexer builds from the same layer, field by field. At
// mount soci-snapshotter checks only a zTOC's digest and its self-consistency; a wrong file
// table turns into I/O errors later, and a wrong checkpoint window into wrong bytes. Each
// difference is a sentence naming the field and the entry or span it belongs to.
import { decodeGzipZinfo, type Checkpoint } from './zinfo.js';
import { decodeTarZinfo, type Ztoc, type ZtocEntry } from './ztoc.js';

export interface ZtocDifference {
  message: string;
  /** The span whose digest or checkpoint differs. */
  span?: number;
  /** The difference is the span's checkpoint window. */
  window?: boolean;
}

/** What the SOCI index says about the zTOC, which the zTOC must repeat. */
export interface ZtocExpectations {
  buildTool?: string | undefined;
  spanSize?: number | undefined;
}

/**
 * Every way `published` differs from `layer` (the zTOC rebuilt from the layer), in the order a
 * reader meets them: header, entries, spans, checkpoints. The build tool is checked against the
 * index's annotation, since our rebuild writes our own.
 */
export function* ztocDifferences(published: Ztoc, layer: Ztoc, expect: ZtocExpectations = {}): Generator<ZtocDifference> {
  const header = (field: string, was: unknown, is: unknown, source = 'the layer says'): ZtocDifference | undefined =>
    was === is ? undefined : { message: `zTOC ${field} is ${show(was)}, ${source} ${show(is)}` };
  yield* defined([
    header('version', published.version, layer.version, 'soci writes'),
    expect.buildTool === undefined ? undefined : header('build tool', published.buildToolIdentifier, expect.buildTool, 'the SOCI index says'),
    header('compressed size', published.compressedArchiveSize, layer.compressedArchiveSize),
    header('uncompressed size', published.uncompressedArchiveSize, layer.uncompressedArchiveSize),
    header('compression', published.compressionAlgorithm, layer.compressionAlgorithm),
  ]);
  const count = Math.max(published.entries.length, layer.entries.length);
  for (let i = 0; i < count; i++) yield* entryDifferences(i, published.entries[i], layer.entries[i]);
  if (published.maxSpanId !== layer.maxSpanId) yield { message: `zTOC has ${published.maxSpanId + 1} spans, the layer has ${layer.maxSpanId + 1}` };
  const spans = Math.min(published.spanDigests.length, layer.spanDigests.length);
  for (let i = 0; i < spans; i++) {
    if (published.spanDigests[i] !== layer.spanDigests[i]) yield { message: `span ${i}: digest is ${published.spanDigests[i]}, the layer's bytes hash to ${layer.spanDigests[i]}`, span: i };
  }
  if (published.compressionAlgorithm === layer.compressionAlgorithm) yield* checkpointDifferences(published, layer, expect.spanSize);
}

const ENTRY_FIELDS: ReadonlyArray<[keyof ZtocEntry, string]> = [
  ['type', 'type'], ['uncompressedOffset', 'offset'], ['uncompressedSize', 'size'], ['linkname', 'link name'], ['mode', 'mode'],
  ['uid', 'uid'], ['gid', 'gid'], ['uname', 'user name'], ['gname', 'group name'], ['modTime', 'modification time'],
  ['devmajor', 'device major'], ['devminor', 'device minor'],
];

function* entryDifferences(i: number, published: ZtocEntry | undefined, layer: ZtocEntry | undefined): Generator<ZtocDifference> {
  if (!layer) {
    yield { message: `zTOC entry ${i} (${show(published!.name)}) is not in the layer, whose tar has ${i} entries` };
    return;
  }
  if (!published) {
    yield { message: `zTOC leaves out tar entry ${i} (${show(layer.name)})` };
    return;
  }
  // Named by what the layer says, which is the truth; a wrong name shows both.
  const label = `zTOC entry ${show(layer.name)}`;
  if (published.name !== layer.name) yield { message: `zTOC entry ${i}: name is ${show(published.name)}, the layer says ${show(layer.name)}` };
  for (const [key, field] of ENTRY_FIELDS) {
    const was = published[key];
    const is = layer[key];
    if (was !== is) yield { message: `${label}: ${field} is ${key === 'mode' ? octal(was as number) : show(was)}, the layer says ${key === 'mode' ? octal(is as number) : show(is)}` };
  }
  const keys = [...new Set([...published.pax.keys(), ...layer.pax.keys()])].sort();
  for (const k of keys) {
    const was = published.pax.get(k);
    const is = layer.pax.get(k);
    if (was && is && was.equals(is)) continue;
    yield { message: `${label}: PAX record ${show(k)} is ${was ? show(was.toString('latin1')) : 'missing'}, the layer says ${is ? show(is.toString('latin1')) : 'there is none'}` };
  }
}

function* checkpointDifferences(published: Ztoc, layer: Ztoc, spanSize: number | undefined): Generator<ZtocDifference> {
  if (published.compressionAlgorithm === 'uncompressed') {
    const [was, is] = [decodeTarZinfo(published.checkpoints, 'zTOC'), decodeTarZinfo(layer.checkpoints, 'zTOC')];
    if (spanSize !== undefined && was.spanSize !== spanSize) yield { message: `zTOC checkpoints record span size ${was.spanSize}, the SOCI index says ${spanSize}` };
    if (was.version !== is.version) yield { message: `zTOC checkpoints are version ${was.version}, soci writes ${is.version}` };
    if (was.size !== is.size) yield { message: `zTOC checkpoints say the tar is ${was.size} bytes, the layer is ${is.size}` };
    return;
  }
  const [was, is] = [decodeGzipZinfo(published.checkpoints, 'zTOC'), decodeGzipZinfo(layer.checkpoints, 'zTOC')];
  if (spanSize !== undefined && was.spanSize !== spanSize) yield { message: `zTOC checkpoints record span size ${was.spanSize}, the SOCI index says ${spanSize}` };
  if (was.checkpoints.length !== is.checkpoints.length) yield { message: `zTOC has ${was.checkpoints.length} checkpoints, the layer has ${is.checkpoints.length}` };
  const count = Math.min(was.checkpoints.length, is.checkpoints.length);
  for (let i = 0; i < count; i++) yield* checkpointDifference(i, was.checkpoints[i]!, is.checkpoints[i]!);
}

function* checkpointDifference(span: number, was: Checkpoint, is: Checkpoint): Generator<ZtocDifference> {
  const fields: Array<[keyof Checkpoint, string]> = [['in', 'compressed offset'], ['out', 'uncompressed offset'], ['bits', 'unused bits']];
  for (const [key, field] of fields) {
    if (was[key] !== is[key]) yield { message: `span ${span}: checkpoint ${field} is ${was[key] as number}, the layer says ${is[key] as number}`, span };
  }
  if (!was.window.equals(is.window)) {
    let at = 0;
    while (was.window[at] === is.window[at]) at++;
    yield { message: `span ${span}: checkpoint window differs from the layer's 32 KiB before uncompressed offset ${is.out}, first at window byte ${at}`, span, window: true };
  }
}

function* defined<T>(items: Array<T | undefined>): Generator<T> {
  for (const item of items) if (item !== undefined) yield item;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}
