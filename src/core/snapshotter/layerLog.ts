// What a daemon decided about one layer, from its JSON debug log (logrus, both daemons): whether
// it prepared a remote snapshot, or a local one (soci fetches a layer without a zTOC whole,
// itself), where it mounted it, and the warnings that say why not.

import { open } from 'node:fs/promises';

/** Log lines kept per layer. */
const MAX_REASONS = 5;
/** A debug log grows by a few KiB per layer; past this much of one pull, the rest is not read. */
const MAX_LOG_BYTES = 16 * 1024 * 1024;

export interface LogEntry {
  text: string;
  fields: Record<string, unknown>;
}

export interface LayerDecision {
  /** `remote-snapshot-prepared`, the last the daemon logged for the layer. */
  prepared: boolean | undefined;
  /** `local-snapshot-prepared`: the daemon fetched and unpacked the layer itself. */
  local: boolean;
  /** The FUSE mount of a remote snapshot, as the daemon logged it. */
  mountPoint: string | undefined;
  /** `msg: error` of its warnings and errors. */
  reasons: string[];
}

/** What the log file gained from byte `from` on (up to 16 MiB); empty when it cannot be read. */
export async function readLogSince(file: string, from: number): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const size = (await handle.stat()).size;
      const buffer = Buffer.alloc(Math.max(0, Math.min(size - from, MAX_LOG_BYTES)));
      await handle.read(buffer, 0, buffer.length, from);
      return buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

/** The JSON lines of a log; others (a Go panic, plain text) are skipped. */
export function parseLogEntries(text: string): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of text.split('\n')) {
    try {
      const fields = JSON.parse(line) as unknown;
      if (fields && typeof fields === 'object' && !Array.isArray(fields)) entries.push({ text: line, fields: fields as Record<string, unknown> });
    } catch {
      // not a JSON line
    }
  }
  return entries;
}

function reasonOf(entry: LogEntry): string {
  const { msg, error } = entry.fields;
  return [msg, error].filter((v) => typeof v === 'string' && v !== '').join(': ');
}

/**
 * The layer's lines are those of its snapshot (the `key`, `<ns>/<n>/extract-<nonce> <chain ID>`,
 * ends with its chain ID) or naming its digest (`layerDigest`, `digest`). Not a text search: a
 * line's `parent` names the layer below, which would blame the wrong one.
 */
export function layerDecision(entries: readonly LogEntry[], chainId: string, digest: string): LayerDecision {
  const about = entries.filter((e) => String(e.fields.key ?? '').endsWith(` ${chainId}`) || e.fields.layerDigest === digest || e.fields.digest === digest);
  const last = (name: string): string | undefined => about.map((e) => e.fields[name]).filter((v): v is string => typeof v === 'string').at(-1);
  const prepared = last('remote-snapshot-prepared');
  const reasons = about.filter((e) => e.fields.level === 'warning' || e.fields.level === 'error').map(reasonOf).filter((r) => r !== '');
  return {
    prepared: prepared === undefined ? undefined : prepared === 'true',
    local: last('local-snapshot-prepared') === 'true',
    mountPoint: prepared === 'true' ? last('mountpoint') : undefined,
    reasons: [...new Set(reasons)].slice(-MAX_REASONS),
  };
}
