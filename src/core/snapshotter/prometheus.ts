// The Prometheus text exposition format (version 0.0.4), as both daemons serve it through
// client_golang: `# HELP`/`# TYPE` lines, then samples `name{label="value",...} value [timestamp]`.
// The text comes from a local daemon, but it is still parsed with bounds and precise errors.
import { FormatError } from '../errors.js';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name: a histogram's `_bucket`, `_sum` and `_count` keep their suffix. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string;
  samples: Sample[];
}

/** A scrape larger than this is not a daemon's metrics page. */
export const MAX_METRICS_BYTES = 16 * 1024 * 1024;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Partial<Record<MetricType, readonly string[]>> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

function fail(line: number, message: string): never {
  throw new FormatError('INVALID_FORMAT', `Cannot parse the metrics, line ${line}: ${message}`, { format: 'prometheus', offset: line });
}

/** `+Inf`, `-Inf`, `NaN` or a Go float. */
function parseValue(text: string, line: number): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) fail(line, `${JSON.stringify(text)} is not a number`);
  return Number(text);
}

/** Reads `{a="x",b="y"}` starting at `text[0] === '{'`; returns the labels and what follows. */
function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i));
    if (!name) fail(line, `a label name was expected at column ${i + 1}`);
    i += name[0].length;
    while (text[i] === ' ') i++;
    if (text[i] !== '=' || text[i + 1] !== '"') fail(line, `label ${name[0]} has no quoted value`);
    i += 2;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) fail(line, `the value of label ${name[0]} is not closed`);
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const next = text[i++];
        value += next === 'n' ? '\n' : next === '\\' || next === '"' ? next : fail(line, `unknown escape \\${next ?? ''} in label ${name[0]}`);
      } else value += c;
    }
    if (Object.hasOwn(labels, name[0])) fail(line, `label ${name[0]} appears twice`);
    labels[name[0]] = value;
    while (text[i] === ' ') i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail(line, `"," or "}" was expected at column ${i + 1}`);
  }
}

/** The family a sample belongs to: its own name, or the histogram or summary its suffix names. */
function familyOf(families: Map<string, MetricFamily>, name: string): MetricFamily {
  const own = families.get(name);
  if (own) return own;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = families.get(name.slice(0, -suffix.length));
    if (base && SUFFIXES[base.type]?.includes(suffix)) return base;
  }
  const untyped: MetricFamily = { name, type: 'untyped', help: '', samples: [] };
  families.set(name, untyped);
  return untyped;
}

/** Parses a scrape into its families, by name, in the order they appear. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (text.length > MAX_METRICS_BYTES) throw new FormatError('INVALID_FORMAT', `Cannot parse the metrics: more than ${MAX_METRICS_BYTES} bytes`, { format: 'prometheus' });
  const families = new Map<string, MetricFamily>();
  const declared = (name: string): MetricFamily => {
    let family = families.get(name);
    if (!family) families.set(name, (family = { name, type: 'untyped', help: '', samples: [] }));
    return family;
  };
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.replace(/\r$/, '').trim();
    if (trimmed === '') return;
    if (trimmed.startsWith('#')) {
      const meta = /^#\s*(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(trimmed);
      if (!meta) return; // any other comment
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (!NAME.test(name) || NAME.exec(name)![0] !== name) fail(line, `${JSON.stringify(name)} is not a metric name`);
      if (kind === 'HELP') declared(name).help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      else {
        if (!TYPES.has(rest as MetricType)) fail(line, `unknown metric type ${JSON.stringify(rest)}`);
        const family = declared(name);
        if (family.samples.length > 0) fail(line, `the TYPE of ${name} comes after its samples`);
        family.type = rest as MetricType;
      }
      return;
    }
    const name = NAME.exec(trimmed)?.[0];
    if (!name) fail(line, 'a metric name was expected');
    let rest = trimmed.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const fields = rest.trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === '') fail(line, `${name} needs a value and at most a timestamp`);
    if (fields[1] !== undefined && !/^-?\d+$/.test(fields[1])) fail(line, `${JSON.stringify(fields[1])} is not a timestamp`);
    familyOf(families, name).samples.push({ name, labels, value: parseValue(fields[0]!, line) });
  });
  return families;
}
