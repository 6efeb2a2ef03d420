// SOCI prefetch artifacts (soci v0.16, experimental): a small JSON blob per layer, listed in the
// SOCI index after the zTOCs, naming ranges of span IDs. soci-snapshotter with `[prefetch]
// enable = true` fetches those spans while it mounts the layer, before anything reads them.
// `soci convert --prefetch-file` maps each file to the spans holding it through the zTOC of the
// topmost layer that lists it; this module maps them the same way and writes the same bytes.
import { LazyImageError } from '../errors.js';
import { sha256, type Descriptor } from '../oci/index.js';
import { cleanEntryName } from '../tar/index.js';
import { LAYER_DIGEST_ANNOTATION, PREFETCH_MEDIA_TYPE } from './manifest.js';
import { entrySpans, spanTable, type SpanTable } from './spans.js';
import type { Ztoc } from './ztoc.js';

export const PREFETCH_VERSION = '1.0';

/** Span IDs `startSpan` to `endSpan`, both included. */
export interface PrefetchSpan {
  startSpan: number;
  endSpan: number;
  /** Reserved by soci for ordering (lower first); soci never writes it and the daemon ignores it. */
  priority?: number;
}

/** A layer of the image, in manifest order, with its zTOC when it got one. */
export interface PrefetchLayer {
  digest: string;
  ztoc?: Ztoc;
}

/** A file found for prefetching: the path as given, the tar entry it matched, where, and its spans. */
export interface PrefetchFile {
  path: string;
  name: string;
  layer: string;
  startSpan: number;
  endSpan: number;
}

export interface PrefetchPlan {
  /** One per manifest layer (in manifest order) holding a found file: its merged span ranges. */
  artifacts: Array<{ layer: string; spans: PrefetchSpan[] }>;
  files: PrefetchFile[];
  /** Paths in no layer that has a zTOC (soci only warns about them). */
  missing: string[];
}

/** Go's strings.TrimSpace: Unicode White_Space, which differs from String.trim (U+0085 in, U+FEFF out). */
const SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const EDGE_SPACE = new RegExp(`^${SPACE}+|${SPACE}+$`, 'g');

function trimSpace(s: string): string {
  return s.replace(EDGE_SPACE, '');
}

/**
 * A path as soci compares it with a zTOC's raw tar names: Go's filepath.Clean of `/` + path,
 * without the leading slash, which is how readers clean entry names too. `/usr//bin/../bin/ls/`
 * becomes `usr/bin/ls`, `/` becomes ''.
 */
export const cleanPrefetchPath = cleanEntryName;

/** The paths soci keeps from a list: trimmed of white space, the empty ones dropped. */
export function prefetchPaths(paths: string[]): string[] {
  return paths.map(trimSpace).filter((p) => p !== '');
}

/** `--prefetch-files-json`: a JSON array of paths (or null), kept as soci keeps them. */
export function parsePrefetchFilesJson(text: string, where: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new LazyImageError('INVALID_ARGUMENT', `${where}: not JSON (${(e as Error).message})`, { ref: where });
  }
  if (value === null) return [];
  if (!Array.isArray(value) || !value.every((p) => typeof p === 'string')) {
    throw new LazyImageError('INVALID_ARGUMENT', `${where}: expected a JSON array of paths, like ["/usr/bin/python3", "/app/main.py"]`, { ref: where });
  }
  return prefetchPaths(value as string[]);
}

/**
 * The spans to prefetch for `paths`, as soci v0.16 picks them: each path is looked up from the top
 * layer down, among layers with a zTOC only, and the first tar entry with its exact (cleaned) name
 * wins, whatever its type. A file's spans run from the span of its first byte to the span of the
 * offset just past its end, so a file ending on a span boundary takes the next span too. Each
 * layer's ranges are sorted and merged where they overlap or touch.
 */
export function planPrefetch(layers: PrefetchLayer[], paths: string[], where: string): PrefetchPlan {
  const lookups = new Map<string, { names: Map<string, number>; table: SpanTable; ztoc: Ztoc }>();
  const lookup = (layer: PrefetchLayer): { names: Map<string, number>; table: SpanTable; ztoc: Ztoc } => {
    let found = lookups.get(layer.digest);
    if (!found) {
      const ztoc = layer.ztoc!;
      const names = new Map<string, number>();
      ztoc.entries.forEach((e, i) => {
        if (!names.has(e.name)) names.set(e.name, i);
      });
      found = { names, table: spanTable(ztoc, undefined, `${where} layer ${layer.digest}`), ztoc };
      lookups.set(layer.digest, found);
    }
    return found;
  };
  const files: PrefetchFile[] = [];
  const missing: string[] = [];
  const byLayer = new Map<string, PrefetchSpan[]>();
  for (const path of prefetchPaths(paths)) {
    const name = cleanPrefetchPath(path);
    const layer = [...layers].reverse().find((l) => l.ztoc && lookup(l).names.has(name));
    if (!layer) {
      missing.push(path);
      continue;
    }
    const { names, table, ztoc } = lookup(layer);
    const entry = ztoc.entries[names.get(name)!]!;
    const startSpan = table.sociSpanId(entry.uncompressedOffset);
    const endSpan = Math.max(startSpan, table.sociSpanId(entry.uncompressedOffset + entry.uncompressedSize));
    files.push({ path, name, layer: layer.digest, startSpan, endSpan });
    byLayer.set(layer.digest, [...(byLayer.get(layer.digest) ?? []), { startSpan, endSpan }]);
  }
  const artifacts = layers.filter((l) => byLayer.has(l.digest)).map((l) => ({ layer: l.digest, spans: mergeSpans(byLayer.get(l.digest)!) }));
  return { artifacts, files, missing };
}

/** Sorted by start then end; a range that overlaps or touches the one before joins it. */
export function mergeSpans(spans: PrefetchSpan[]): PrefetchSpan[] {
  const sorted = [...spans].sort((a, b) => a.startSpan - b.startSpan || a.endSpan - b.endSpan);
  const merged: PrefetchSpan[] = [];
  for (const s of sorted) {
    const last = merged.at(-1);
    if (last && s.startSpan <= last.endSpan + 1) last.endSpan = Math.max(last.endSpan, s.endSpan);
    else merged.push({ ...s });
  }
  return merged;
}

/** The artifact's bytes as Go's encoding/json writes soci's struct (priority left out when 0). */
export function encodePrefetchArtifact(spans: PrefetchSpan[]): Buffer {
  const items = spans.map((s) => `{"start_span":${s.startSpan},"end_span":${s.endSpan}${s.priority ? `,"priority":${s.priority}` : ''}}`);
  return Buffer.from(`{"version":"${PREFETCH_VERSION}","prefetch_spans":[${items.join(',')}]}`);
}

/** How the SOCI index lists a layer's artifact: only the layer-digest annotation. */
export function prefetchDescriptor(layer: string, bytes: Buffer): Descriptor {
  return { mediaType: PREFETCH_MEDIA_TYPE, digest: sha256(bytes), size: bytes.length, annotations: { [LAYER_DIGEST_ANNOTATION]: layer } };
}

const INT32_MAX = 2 ** 31 - 1;

/**
 * Reads an artifact as the daemon does: a missing number is 0, the version must be 1.0 and the
 * list must not be empty (else the daemon skips prefetching the layer).
 */
export function decodePrefetchArtifact(bytes: Buffer, where: string): PrefetchSpan[] {
  const fail = (why: string): LazyImageError => new LazyImageError('INVALID_FORMAT', `${where}: ${why}`, { ref: where });
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw fail(`not JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('not a JSON object');
  const { version, prefetch_spans: list } = value as { version?: unknown; prefetch_spans?: unknown };
  if (version !== PREFETCH_VERSION) throw fail(`version ${JSON.stringify(version)} is not ${PREFETCH_VERSION}`);
  if (list !== undefined && list !== null && !Array.isArray(list)) throw fail('prefetch_spans is not a list');
  if (!list || list.length === 0) throw fail('it lists no spans');
  const number = (v: unknown, what: string, i: number): number => {
    if (v === undefined || v === null) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > INT32_MAX) throw fail(`range ${i + 1}: ${what} ${JSON.stringify(v)} is not a 32-bit integer`);
    return v;
  };
  return (list as unknown[]).map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw fail(`range ${i + 1} is not an object`);
    const o = item as Record<string, unknown>;
    const span: PrefetchSpan = { startSpan: number(o.start_span, 'start_span', i), endSpan: number(o.end_span, 'end_span', i) };
    const priority = o.priority === undefined || o.priority === null ? 0 : o.priority;
    if (typeof priority !== 'number' || !Number.isSafeInteger(priority)) throw fail(`range ${i + 1}: priority ${JSON.stringify(priority)} is not an integer`);
    return priority ? { ...span, priority } : span;
  });
}

/** A layer's prefetch artifact against its zTOC: what the daemon would fetch at mount, and what is wrong. */
export interface PrefetchCheck {
  artifact: string;
  ranges: number;
  /** Distinct spans fetched at mount, and their compressed bytes. */
  spans: number;
  bytes: number;
  /** Files with data whose every span is prefetched. */
  files: number;
  problems: string[];
}

export function checkPrefetchSpans(artifact: string, ranges: PrefetchSpan[], ztoc: Ztoc, table: SpanTable): PrefetchCheck {
  const problems: string[] = [];
  const last = table.spans.length - 1;
  const fetched = new Set<number>();
  ranges.forEach((r, i) => {
    const which = `range ${i + 1} (spans ${r.startSpan}-${r.endSpan})`;
    // The daemon checks span IDs against the last one only, not against 0.
    if (r.startSpan < 0) problems.push(`${which} starts below span 0`);
    else if (r.endSpan < r.startSpan) problems.push(`${which} is empty: it ends before it starts`);
    else if (r.endSpan > last) problems.push(`${which} goes past the layer's last span, ${last}: the snapshotter skips what is past it`);
    for (let id = Math.max(r.startSpan, 0); id <= Math.min(r.endSpan, last); id++) fetched.add(id);
  });
  const bytes = [...fetched].reduce((n, id) => n + table.spans[id]!.end - table.spans[id]!.start, 0);
  const files = ztoc.entries.filter((e) => {
    const spans = e.type === 'reg' ? entrySpans(table, e) : undefined;
    if (!spans) return false;
    for (let id = spans[0]; id <= spans[1]; id++) if (!fetched.has(id)) return false;
    return true;
  }).length;
  return { artifact, ranges: ranges.length, spans: fetched.size, bytes, files, problems: problems.map((p) => `prefetch artifact ${artifact}: ${p}`) };
}
