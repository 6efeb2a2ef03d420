// What Convert Many..., Index Many... and Export as Kubernetes Job... build from the tree's
// selection and the wizard's choices: a batch plan (the object `lazyimg batch` reads as YAML), and
// the words for how the batch ended. No VS Code here, so the unit tests read it directly.
import { stringify } from 'yaml';
import { count } from '../../core/format.js';
import { formatReference, type ImageReference } from '../../core/oci/index.js';
import type { BatchResult } from '../../worker/protocol.js';

export type BatchOperation = 'estargz' | 'soci-v2' | 'soci-v1' | 'both';

/** Tags picked one by one in the tree, or a registry repository's tags that match a glob. */
export type BatchSelection =
  | { kind: 'images'; images: ImageReference[] }
  | { kind: 'repository'; registry: string; repository: string; tags: string };

export interface BatchChoices {
  operation: BatchOperation;
  /** Where each result goes: a tag rule (`<tag>-soci`) beside its source; none for SOCI v1 (the source itself). */
  destination?: string | { estargz: string; soci: string };
  allPlatforms: boolean;
  estargz?: { level?: number; chunkSize?: number; prioritized?: string[] };
  soci?: { spanSize?: number; minLayerSize?: number };
}

/** The plan object: version 1, the choices as defaults, one item per tag (or the repository with its filter). */
export function batchPlan(selection: BatchSelection, choices: BatchChoices): Record<string, unknown> {
  const defaults: Record<string, unknown> = { operation: choices.operation };
  if (choices.destination !== undefined) defaults.destination = choices.destination;
  if (choices.allPlatforms) defaults.allPlatforms = true;
  const estargz = defined(choices.estargz ?? {});
  const soci = defined(choices.soci ?? {});
  if (Object.keys(estargz).length) defaults.estargz = estargz;
  if (Object.keys(soci).length) defaults.soci = soci;
  const items = selection.kind === 'images'
    ? [...new Set(selection.images.map((ref) => formatReference(ref)))].map((source) => ({ source }))
    : [{ source: `${selection.registry}/${selection.repository}`, tags: selection.tags }];
  return { version: 1, defaults, items };
}

/** The plan as the YAML file `lazyimg batch` reads, with a line saying where it came from. */
export function planYaml(plan: Record<string, unknown>): string {
  return `# A lazyimg batch plan, written by Lazy Images. Run it with: lazyimg batch <this file>\n${stringify(plan)}`;
}

/** Why a tag rule would not give each image a tag of its own, if it would not. */
export function tagRuleProblem(rule: string): string | undefined {
  if (!rule) return 'Enter a rule, such as <tag>-soci';
  if (!rule.includes('<tag>')) return 'The rule needs <tag>, so that each image gets a tag of its own';
  const example = rule.replaceAll('<tag>', 'v1').replaceAll('<name>', 'app');
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(example) ? undefined : `${example} (for the tag v1) is not a valid tag`;
}

/**
 * How much a batch did, from its item events: `3 SOCI images made; 4 of 9 layers reused` (a layer
 * counts once per image that has it), then what was skipped or failed.
 */
export function batchOutcome(result: BatchResult, one: string, many: string): { message: string; failed: boolean } {
  const items = result.events.flatMap((e) => (e.type === 'item' ? [e] : []));
  const done = items.filter((i) => i.outcome === 'done');
  const skipped = items.filter((i) => i.outcome === 'skipped');
  const failed = items.filter((i) => i.outcome === 'failed');
  const reused = items.reduce((n, i) => n + i.layers.reused, 0);
  const layers = items.reduce((n, i) => n + i.layers.built + i.layers.reused, 0);
  const small = items.reduce((n, i) => n + i.layers.skipped, 0);
  const parts = [
    `${count(done.length, one, many)} made`,
    `${reused} of ${count(layers, 'layer')} reused`,
    ...(small ? [`${count(small, 'layer')} too small for a zTOC`] : []),
    ...(skipped.length ? [`${skipped.length} already up to date`] : []),
    ...(failed.length ? [`${failed.length} failed: ${failed.map((i) => `${i.source}: ${i.error?.message ?? 'no reason given'}`).join('; ')}`] : []),
  ];
  return { message: parts.join('; '), failed: failed.length > 0 };
}

function defined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as Partial<T>;
}
