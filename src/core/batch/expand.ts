// A plan turned into its items: one per source image and operation (`both` makes two), each with
// its destination named by its rule. Repositories and registry prefixes expand to their tags in
// name order, so every shard expands a plan the same way. Tags that are outputs of the plan's own
// rules are left out: a rerun does not convert the converted images.
import { basename } from 'node:path';
import type { Stores } from '../image/index.js';
import { globMatcher } from '../lazy/index.js';
import { formatReference, parseReference, type CallOptions, type ImageReference } from '../oci/index.js';
import { MAX_BATCH_ITEMS, planError, sourceKind, type BatchItemOptions, type BatchItemSpec, type BatchPlan, type DestinationRule, type EstargzPlanOptions, type SociPlanOptions } from './plan.js';

export type ItemOperation = 'estargz' | 'soci-v2' | 'soci-v1';

/** One unit of work: one source image, one operation, one destination. */
export interface BatchItem {
  source: string;
  operation: ItemOperation;
  destination: string;
  platform?: string;
  allPlatforms?: boolean;
  estargz?: EstargzPlanOptions;
  soci?: SociPlanOptions;
}

export const DEFAULT_RULES: Record<'estargz' | 'soci-v2', string> = { estargz: '<tag>-esgz', 'soci-v2': '<tag>-soci' };

/** The destination of `source` under `rule`; soci-v1 with no rule writes to the source itself. */
export function destinationFor(source: ImageReference, rule: string | undefined, operation: ItemOperation): ImageReference {
  if (rule === undefined && operation === 'soci-v1') return source;
  const template = rule ?? DEFAULT_RULES[operation as 'estargz' | 'soci-v2'];
  const named = fillRule(template, source);
  if (isTagRule(template)) {
    return parseReference(formatReference({ ...withoutVersion(source), tag: named }));
  }
  const ref = parseReference(named);
  if (ref.digest !== undefined) throw new Error(`the rule "${template}" names a digest: a destination needs a tag`);
  return ref;
}

/** The repository (or layout) of a reference, without tag or digest. */
function withoutVersion(ref: ImageReference): ImageReference {
  const out = { ...ref };
  delete out.tag;
  delete out.digest;
  return out;
}

/** A rule with no `/` and no `:` is a tag in the source's repository. */
function isTagRule(rule: string): boolean {
  return !rule.includes('/') && !rule.includes(':');
}

function fillRule(rule: string, source: ImageReference): string {
  return rule.replace(/<(registry|repository|tag|name)>/g, (_, name: string) => {
    switch (name) {
      case 'registry':
        if (source.kind !== 'registry') throw new Error(`<registry> in "${rule}" has no value for the OCI layout ${formatReference(source)}`);
        return source.registry;
      case 'repository':
        return source.kind === 'registry' ? source.repository : source.path;
      case 'name':
        return basename(source.kind === 'registry' ? source.repository : source.path);
      default:
        if (source.tag === undefined) throw new Error(`<tag> in "${rule}" has no value: ${formatReference(source)} has no tag`);
        return source.tag;
    }
  });
}

/** What a rule's outputs look like: tag rules match a tag, others a whole reference. */
function outputPattern(rule: string): { tagOnly: boolean; re: RegExp } | undefined {
  const tagOnly = isTagRule(rule);
  // A rule that names the source itself has no outputs to leave out.
  if (rule === '<tag>' || rule === '<registry>/<repository>:<tag>') return undefined;
  const body = rule.split(/(<(?:registry|repository|tag|name)>)/).map((part) => (/^<\w+>$/.test(part) ? '.+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return { tagOnly, re: new RegExp(`^${body}$`) };
}

function rulesOf(options: BatchItemOptions, operation: ItemOperation): string | undefined {
  const rule: DestinationRule | undefined = options.destination;
  if (rule === undefined || typeof rule === 'string') return rule;
  return operation === 'estargz' ? rule.estargz : rule.soci;
}

function operationsOf(options: BatchItemOptions): ItemOperation[] {
  const op = options.operation ?? 'soci-v2';
  return op === 'both' ? ['estargz', 'soci-v2'] : [op];
}

function merged(plan: BatchPlan, spec: BatchItemSpec): BatchItemOptions {
  const d = plan.defaults ?? {};
  const destination = spec.destination ?? d.destination;
  return {
    operation: spec.operation ?? d.operation ?? 'soci-v2',
    ...(destination !== undefined ? { destination } : {}),
    ...(spec.platform !== undefined || spec.allPlatforms !== undefined ? pick(spec) : pick(d)),
    ...(spec.estargz || d.estargz ? { estargz: { ...d.estargz, ...spec.estargz } } : {}),
    ...(spec.soci || d.soci ? { soci: { ...d.soci, ...spec.soci } } : {}),
  };
}

function pick(o: BatchItemOptions): Pick<BatchItemOptions, 'platform' | 'allPlatforms'> {
  return { ...(o.platform !== undefined ? { platform: o.platform } : {}), ...(o.allPlatforms ? { allPlatforms: true } : {}) };
}

/**
 * The plan's items, in plan order (tags and repositories in name order within an item). `exclude`
 * names repositories never to expand into (the cache's).
 */
export async function expandPlan(plan: BatchPlan, stores: Stores, options: CallOptions & { exclude?: string[] } = {}): Promise<BatchItem[]> {
  const where = plan.where ?? 'plan';
  const specs = plan.items.map((spec) => ({ spec, options: merged(plan, spec) }));
  const patterns = specs.flatMap(({ options: o }) => operationsOf(o).map((op) => rulesOf(o, op) ?? (op === 'soci-v1' ? undefined : DEFAULT_RULES[op])))
    .filter((r): r is string => r !== undefined).map(outputPattern).filter((p) => p !== undefined);
  const isOutput = (ref: ImageReference): boolean => patterns.some((p) => p.re.test(p.tagOnly ? ref.tag ?? '' : formatReference(ref)));
  const excluded = new Set(options.exclude ?? []);
  const items: BatchItem[] = [];
  const seen = new Map<string, string>();
  for (const [i, { spec, options: o }] of specs.entries()) {
    const path = `items[${i}]`;
    const sources = await sourcesOf(spec, stores, excluded, options);
    for (const source of sources) {
      if (sourceKind(spec.source) !== 'image' && isOutput(source)) continue;
      for (const operation of operationsOf(o)) {
        let destination: ImageReference;
        try {
          destination = destinationFor(source, rulesOf(o, operation), operation);
        } catch (e) {
          throw planError(where, `${path}.destination`, `${formatReference(source)}: ${(e as Error).message}`);
        }
        const item: BatchItem = {
          source: formatReference(source), operation, destination: formatReference(destination), ...pick(o),
          ...(operation === 'estargz' && o.estargz ? { estargz: o.estargz } : {}), ...(operation !== 'estargz' && o.soci ? { soci: o.soci } : {}),
        };
        const twin = seen.get(item.destination);
        if (twin !== undefined) {
          if (twin === `${item.source} ${operation}`) continue; // listed twice: done once
          throw planError(where, path, `${item.source} (${operation}) and ${twin} would both write ${item.destination}`);
        }
        // v1 attaches to the image and leaves the tag alone: several v1 items may share it.
        if (operation !== 'soci-v1') seen.set(item.destination, `${item.source} ${operation}`);
        items.push(item);
        if (items.length > MAX_BATCH_ITEMS) throw planError(where, 'items', `expands to more than ${MAX_BATCH_ITEMS} items`);
      }
    }
  }
  return items;
}

/** The images an item names: itself, its repository's matching tags, or those of every repository under a prefix. */
async function sourcesOf(spec: BatchItemSpec, stores: Stores, excluded: Set<string>, call: CallOptions): Promise<ImageReference[]> {
  const kind = sourceKind(spec.source);
  if (kind === 'image') return [parseReference(spec.source)];
  const matches = globMatcher(spec.tags ?? '*');
  if (kind === 'repository') {
    const repository = withoutVersion(parseReference(spec.source));
    return (await tagsOf(repository, stores, call)).filter(matches).map((tag) => ({ ...repository, tag }));
  }
  const slash = spec.source.indexOf('/');
  const registry = parseReference(`${spec.source}x`) as Extract<ImageReference, { kind: 'registry' }>;
  const prefix = spec.source.slice(slash + 1);
  const repositories: string[] = [];
  for await (const page of stores.repositories(registry.registry, call)) {
    for (const name of page.names) if (name.startsWith(prefix) && !excluded.has(`${registry.registry}/${name}`)) repositories.push(name);
    if (repositories.length > MAX_BATCH_ITEMS) break;
  }
  const out: ImageReference[] = [];
  for (const repository of repositories.sort()) {
    const base: ImageReference = { kind: 'registry', registry: registry.registry, repository };
    for (const tag of await tagsOf(base, stores, call)) if (matches(tag)) out.push({ ...base, tag });
    if (out.length > MAX_BATCH_ITEMS) break;
  }
  return out;
}

async function tagsOf(repository: ImageReference, stores: Stores, call: CallOptions): Promise<string[]> {
  const store = await stores.open(repository);
  const tags: string[] = [];
  for await (const page of store.listTags(call)) {
    tags.push(...page.names);
    // More could never run: the caller stops at the limit.
    if (tags.length > MAX_BATCH_ITEMS) break;
  }
  return tags.sort();
}
