// Which items a shard does. Items that share a layer are joined into one group (union-find on layer
// digests), so a layer is built by one shard only; groups are dealt largest first (by the bytes of
// their distinct layers) to the shard with the least so far. A group that alone is at least twice
// an even share (a fleet on one common base) would leave the other shards idle, so its items are
// dealt one by one instead, each costed by the layers no shard has yet: then a shared layer may be
// built by two shards, which `runOrder` makes rare. Every shard computes the same deal from the
// same plan: no coordination is needed.
import { LazyImageError } from '../errors.js';

export interface Shard {
  /** From 0. */
  index: number;
  count: number;
}

export const MAX_SHARDS = 10_000;

export interface ShardInput {
  /** Ties between groups of equal size are broken by their first item's name. */
  name: string;
  layers: ReadonlyArray<{ digest: string; size: number }>;
}

/** `I/N` (from 0), as `--shard` takes it. */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,5})\/(\d{1,5})$/.exec(text.trim());
  const shard = m ? { index: Number(m[1]), count: Number(m[2]) } : undefined;
  if (!shard || shard.count < 1 || shard.count > MAX_SHARDS || shard.index >= shard.count) {
    throw new LazyImageError('INVALID_ARGUMENT', `shard "${text}" is not I/N with 0 <= I < N <= ${MAX_SHARDS} (e.g. 0/3)`);
  }
  return shard;
}

export function formatShard(shard: Shard | undefined): string {
  return shard ? `${shard.index}/${shard.count}` : '0/1';
}

/** A Kubernetes Indexed Job's pod: `JOB_COMPLETION_INDEX` of `LAZYIMG_SHARDS`; undefined when neither is set. */
export function shardFromEnv(env: NodeJS.ProcessEnv): Shard | undefined {
  const index = env.JOB_COMPLETION_INDEX;
  const count = env.LAZYIMG_SHARDS;
  if (index === undefined && count === undefined) return undefined;
  if (index === undefined || count === undefined) {
    throw new LazyImageError('INVALID_ARGUMENT', `JOB_COMPLETION_INDEX and LAZYIMG_SHARDS go together: only ${index === undefined ? 'LAZYIMG_SHARDS' : 'JOB_COMPLETION_INDEX'} is set`);
  }
  return parseShard(`${index}/${count}`);
}

/** The shard of each item, by position. */
export function assignShards(items: readonly ShardInput[], count: number): number[] {
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  const owner = new Map<string, number>();
  items.forEach((item, i) => {
    for (const { digest } of item.layers) {
      const other = owner.get(digest);
      if (other === undefined) owner.set(digest, i);
      else {
        const [a, b] = [find(i), find(other)];
        // The lower position is the root, so a group's root is its first item.
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const groups = new Map<number, { first: number; members: number[]; layers: Map<string, number> }>();
  items.forEach((item, i) => {
    const root = find(i);
    let group = groups.get(root);
    if (!group) groups.set(root, (group = { first: root, members: [], layers: new Map() }));
    group.members.push(i);
    for (const l of item.layers) group.layers.set(l.digest, l.size);
  });
  const sized = [...groups.values()].map((g) => ({ ...g, bytes: [...g.layers.values()].reduce((a, b) => a + b, 0) }));
  sized.sort((a, b) => b.bytes - a.bytes || compare(items[a.first]!.name, items[b.first]!.name) || a.first - b.first);
  const total = sized.reduce((n, g) => n + g.bytes, 0);
  const load = Array.from({ length: count }, () => ({ bytes: 0, items: 0 }));
  const dealt = new Set<string>();
  const shardOf = new Array<number>(items.length);
  const emptiest = (extra: (s: number) => number): number => {
    let best = 0;
    for (let s = 1; s < count; s++) {
      const [l, b] = [load[s]!.bytes + extra(s), load[best]!.bytes + extra(best)];
      if (l < b || (l === b && load[s]!.items < load[best]!.items)) best = s;
    }
    return best;
  };
  const give = (shard: number, members: number[], bytes: number): void => {
    load[shard]!.bytes += bytes;
    load[shard]!.items += members.length;
    for (const m of members) shardOf[m] = shard;
  };
  for (const group of sized) {
    if (count === 1 || group.bytes * count < 2 * total) {
      give(emptiest(() => 0), group.members, group.bytes);
      continue;
    }
    const bytesOf = (i: number): number => items[i]!.layers.reduce((n, l) => n + l.size, 0);
    const members = [...group.members].sort((a, b) => bytesOf(b) - bytesOf(a) || compare(items[a]!.name, items[b]!.name) || a - b);
    for (const m of members) {
      const fresh = new Map(items[m]!.layers.filter((l) => !dealt.has(l.digest)).map((l) => [l.digest, l.size]));
      const cost = [...fresh.values()].reduce((a, b) => a + b, 0);
      give(emptiest(() => cost), [m], cost);
      for (const digest of fresh.keys()) dealt.add(digest);
    }
  }
  return shardOf;
}

/**
 * The positions of a shard's items in the order to run them. A layer belongs to the shard of the
 * first item (by position) that has it; items needing a layer another shard owns run last, by when
 * that shard has usually built it and the cache hands it over.
 */
export function runOrder(items: readonly ShardInput[], shardOf: readonly number[], shard: number): number[] {
  const owner = new Map<string, number>();
  items.forEach((item, i) => {
    for (const { digest } of item.layers) if (!owner.has(digest)) owner.set(digest, shardOf[i]!);
  });
  const mine = items.map((_, i) => i).filter((i) => shardOf[i] === shard);
  const late = (i: number): boolean => items[i]!.layers.some((l) => owner.get(l.digest) !== shard);
  return [...mine.filter((i) => !late(i)), ...mine.filter(late)];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
