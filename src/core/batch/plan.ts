// A batch plan: YAML or JSON (JSON is YAML), read as untrusted input. Every field is checked and
// unknown ones refused (a misspelt option silently ignored would change the output), with errors
// that name the file and the path of the field: `plan.yaml: items[3].operation: ...`.
import { parseDocument } from 'yaml';
import { LazyImageError } from '../errors.js';
import { MAX_SPAN_BYTES } from '../limits.js';
import { parsePlatform, parseReference, type ImageReference } from '../oci/index.js';

export const MAX_PLAN_BYTES = 1024 * 1024;
export const MAX_BATCH_ITEMS = 10_000;
const MAX_PATHS = 10_000;

export type BatchOperation = 'estargz' | 'soci-v2' | 'soci-v1' | 'both';
export const BATCH_OPERATIONS: readonly BatchOperation[] = ['estargz', 'soci-v2', 'soci-v1', 'both'];

/** A naming rule, or for `both` one per output. */
export type DestinationRule = string | { estargz?: string; soci?: string };

export interface EstargzPlanOptions {
  level?: number;
  chunkSize?: number;
  prioritized?: string[];
}

export interface SociPlanOptions {
  spanSize?: number;
  minLayerSize?: number;
  prefetch?: string[];
}

/** What an item may set, and the plan's defaults hold. */
export interface BatchItemOptions {
  operation?: BatchOperation;
  destination?: DestinationRule;
  /** `os/arch[/variant]` */
  platform?: string;
  allPlatforms?: boolean;
  estargz?: EstargzPlanOptions;
  soci?: SociPlanOptions;
}

export interface BatchItemSpec extends BatchItemOptions {
  /** One image (`repo:tag`, `repo@digest`), a repository (no tag: its tags), or a registry prefix (`host/` or `host/path/`). */
  source: string;
  /** For repositories and prefixes: a glob (`*`, `?`) the tags must match; `*` by default. */
  tags?: string;
}

/** A checked plan: plain JSON, so it can be sent to the worker as it is. */
export interface BatchPlan {
  version: 1;
  cache?: string;
  defaults?: BatchItemOptions;
  items: BatchItemSpec[];
  /** The file (or label) errors name. */
  where?: string;
}

const PLACEHOLDERS = new Set(['registry', 'repository', 'tag', 'name']);

/** Parses and checks a plan's text; `where` names it in errors. */
export function parsePlan(text: string, where: string): BatchPlan {
  if (Buffer.byteLength(text) > MAX_PLAN_BYTES) throw planError(where, '', `the plan is over the ${MAX_PLAN_BYTES}-byte limit`);
  const doc = parseDocument(text);
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const at = e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : 'the start';
    throw planError(where, '', `not valid YAML or JSON at ${at}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  let value: unknown;
  try {
    // Aliases could expand a small file into a huge document: refuse them.
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (e) {
    throw planError(where, '', (e as Error).message);
  }
  return validatePlan(value, where);
}

/** Checks a plan given as a value (the worker receives it parsed). */
export function validatePlan(value: unknown, where: string): BatchPlan {
  const c = new Checker(where);
  // `where` is what a parsed plan carries (the worker receives one): the caller's replaces it.
  const top = c.object(value, '', ['version', 'cache', 'defaults', 'items', 'where']);
  if (top.version !== 1) c.fail('version', top.version === undefined ? 'is required: 1' : 'must be 1');
  const plan: BatchPlan = { version: 1, items: [], where };
  if (top.cache !== undefined) {
    plan.cache = c.string(top.cache, 'cache');
    c.reference(plan.cache, 'cache');
  }
  if (top.defaults !== undefined) plan.defaults = c.options(top.defaults, 'defaults', []);
  const items = c.array(top.items, 'items');
  if (items.length === 0) c.fail('items', 'must list at least one item');
  if (items.length > MAX_BATCH_ITEMS) c.fail('items', `lists ${items.length} items, over the limit of ${MAX_BATCH_ITEMS}`);
  items.forEach((raw, i) => {
    const path = `items[${i}]`;
    const options = c.options(raw, path, ['source', 'tags']);
    const o = raw as Record<string, unknown>;
    const source = c.string(o.source, `${path}.source`);
    const kind = sourceKind(source);
    if (kind === 'prefix') c.prefix(source, `${path}.source`);
    else c.reference(source, `${path}.source`);
    const item: BatchItemSpec = { source, ...options };
    if (o.tags !== undefined) {
      if (kind === 'image') c.fail(`${path}.tags`, 'applies to a repository or a registry prefix, not to one image (the source has a tag or digest)');
      item.tags = c.string(o.tags, `${path}.tags`);
      if (!/^[\w.*?-]{1,128}$/.test(item.tags)) c.fail(`${path}.tags`, 'must be a tag pattern: letters, digits, "_", ".", "-" and the wildcards * and ?');
    }
    plan.items.push(item);
    // A `both` item needs a rule per output, from the item or the defaults.
    const operation = item.operation ?? plan.defaults?.operation ?? 'soci-v2';
    const rule = item.destination ?? plan.defaults?.destination;
    if (operation === 'both' && typeof rule === 'string') c.fail(`${path}.destination`, 'operation both writes two images: give {estargz: rule, soci: rule}');
    if (operation !== 'both' && rule !== undefined && typeof rule !== 'string') c.fail(`${path}.destination`, `operation ${operation} writes one image: give one rule`);
  });
  return plan;
}

/** One image, a repository (its tags) or a registry prefix (its repositories' tags). */
export function sourceKind(source: string): 'image' | 'repository' | 'prefix' {
  if (source.endsWith('/')) return 'prefix';
  const name = source.startsWith('oci:') ? source.slice('oci:'.length) : source;
  const last = name.slice(name.lastIndexOf('/') + 1);
  return last.includes(':') || last.includes('@') ? 'image' : 'repository';
}

export function planError(where: string, path: string, problem: string): LazyImageError {
  return new LazyImageError('INVALID_ARGUMENT', `${where}: ${path ? `${path}: ` : ''}${problem}`);
}

class Checker {
  constructor(private readonly where: string) {}

  fail(path: string, problem: string): never {
    throw planError(this.where, path, problem);
  }

  object(value: unknown, path: string, allowed: string[], also: readonly string[] = []): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'must be a mapping');
    const known = new Set([...allowed, ...also]);
    for (const key of Object.keys(value)) if (!known.has(key)) this.fail(path ? `${path}.${key}` : key, `is not a known field (expected ${[...known].join(', ')})`);
    return value as Record<string, unknown>;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string' || value.length === 0) this.fail(path, 'must be a non-empty string');
    if (value.length > 4096) this.fail(path, 'is longer than 4096 characters');
    return value;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, value === undefined ? 'is required: a list' : 'must be a list');
    return value;
  }

  int(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) this.fail(path, `must be a whole number from ${min} to ${max}`);
    return value;
  }

  paths(value: unknown, path: string): string[] {
    const list = this.array(value, path);
    if (list.length > MAX_PATHS) this.fail(path, `lists more than ${MAX_PATHS} paths`);
    return list.map((p, i) => this.string(p, `${path}[${i}]`));
  }

  reference(value: string, path: string): void {
    try {
      parseReference(value);
    } catch (e) {
      this.fail(path, (e as Error).message);
    }
  }

  /** `host/` or `host/path/`: a registry, and a repository path prefix. */
  prefix(value: string, path: string): void {
    const host = value.slice(0, value.indexOf('/'));
    let ref: ImageReference | undefined;
    try {
      ref = parseReference(`${value}x`);
    } catch {
      // reported below
    }
    if (value.startsWith('oci:') || ref?.kind !== 'registry' || ref.registry !== host.toLowerCase() || value.includes('//')) {
      this.fail(path, `"${value}" is not a registry prefix such as registry.example:5000/ or registry.example:5000/team/`);
    }
  }

  rule(value: unknown, path: string): string {
    const rule = this.string(value, path);
    for (const [, name] of rule.matchAll(/<([^>]*)>/g)) {
      if (!PLACEHOLDERS.has(name!)) this.fail(path, `<${name}> is not a placeholder (use <registry>, <repository>, <name>, <tag>)`);
    }
    if (/[<>]/.test(rule.replace(/<(registry|repository|tag|name)>/g, ''))) this.fail(path, 'has an unclosed < or >');
    return rule;
  }

  /** The item fields shared with the defaults; `also` are the caller's own fields. */
  options(value: unknown, path: string, also: readonly string[]): BatchItemOptions {
    const o = this.object(value, path, ['operation', 'destination', 'platform', 'allPlatforms', 'estargz', 'soci'], also);
    const at = (k: string): string => (path ? `${path}.${k}` : k);
    const out: BatchItemOptions = {};
    if (o.operation !== undefined) {
      if (!BATCH_OPERATIONS.includes(o.operation as BatchOperation)) this.fail(at('operation'), `must be one of ${BATCH_OPERATIONS.join(', ')}`);
      out.operation = o.operation as BatchOperation;
    }
    if (o.destination !== undefined) {
      if (typeof o.destination === 'string') out.destination = this.rule(o.destination, at('destination'));
      else {
        const d = this.object(o.destination, at('destination'), ['estargz', 'soci']);
        out.destination = {
          ...(d.estargz !== undefined ? { estargz: this.rule(d.estargz, at('destination.estargz')) } : {}),
          ...(d.soci !== undefined ? { soci: this.rule(d.soci, at('destination.soci')) } : {}),
        };
      }
    }
    if (o.platform !== undefined) {
      out.platform = this.string(o.platform, at('platform'));
      try {
        parsePlatform(out.platform);
      } catch (e) {
        this.fail(at('platform'), (e as Error).message);
      }
    }
    if (o.allPlatforms !== undefined) {
      if (typeof o.allPlatforms !== 'boolean') this.fail(at('allPlatforms'), 'must be true or false');
      out.allPlatforms = o.allPlatforms;
    }
    if (out.platform !== undefined && out.allPlatforms) this.fail(at('allPlatforms'), 'cannot go with platform: pick one');
    if (o.estargz !== undefined) {
      const e = this.object(o.estargz, at('estargz'), ['level', 'chunkSize', 'prioritized']);
      out.estargz = {
        ...(e.level !== undefined ? { level: this.int(e.level, at('estargz.level'), 1, 9) } : {}),
        ...(e.chunkSize !== undefined ? { chunkSize: this.int(e.chunkSize, at('estargz.chunkSize'), 1, Number.MAX_SAFE_INTEGER) } : {}),
        ...(e.prioritized !== undefined ? { prioritized: this.paths(e.prioritized, at('estargz.prioritized')) } : {}),
      };
    }
    if (o.soci !== undefined) {
      const s = this.object(o.soci, at('soci'), ['spanSize', 'minLayerSize', 'prefetch']);
      out.soci = {
        ...(s.spanSize !== undefined ? { spanSize: this.int(s.spanSize, at('soci.spanSize'), 1, MAX_SPAN_BYTES) } : {}),
        ...(s.minLayerSize !== undefined ? { minLayerSize: this.int(s.minLayerSize, at('soci.minLayerSize'), 0, Number.MAX_SAFE_INTEGER) } : {}),
        ...(s.prefetch !== undefined ? { prefetch: this.paths(s.prefetch, at('soci.prefetch')) } : {}),
      };
    }
    return out;
  }
}
