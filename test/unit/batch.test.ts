// The batch engine's pure parts: plan checks and their error paths, naming rules, the shard deal,
// cache keys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assignShards, canonicalJson, destinationFor, MAX_BATCH_ITEMS, parsePlan, parseShard, recordKey, runOrder, shardFromEnv, sourceKind, validatePlan, type ShardInput,
} from '../../src/core/batch/index.js';
import { formatReference, parseReference } from '../../src/core/oci/index.js';

function planError(text: string): string {
  try {
    parsePlan(text, 'plan.yaml');
  } catch (e) {
    assert.equal((e as { code?: string }).code, 'INVALID_ARGUMENT');
    return (e as Error).message;
  }
  assert.fail(`accepted: ${text}`);
}

describe('batch plans', () => {
  it('reads YAML and JSON alike', () => {
    const yaml = parsePlan([
      'version: 1', 'cache: oci:./cache', 'defaults:', '  operation: both', '  destination: { estargz: "<tag>-esgz", soci: "<tag>-soci" }',
      '  estargz: { level: 6, prioritized: [/bin/sh] }', '  soci: { spanSize: 1048576 }', 'items:', '  - source: r.example:5000/app:1.0',
      '  - source: r.example:5000/web', '    tags: "v1.*"', '    operation: estargz', '    destination: "r.example:5000/web-esgz:<tag>"',
    ].join('\n'), 'plan.yaml');
    assert.equal(yaml.items.length, 2);
    assert.deepEqual(yaml.defaults?.estargz, { level: 6, prioritized: ['/bin/sh'] });
    assert.equal(yaml.items[1]!.tags, 'v1.*');
    const json = parsePlan(JSON.stringify({ version: 1, items: [{ source: 'r.example:5000/app:1.0', operation: 'soci-v1' }] }), 'plan.json');
    assert.equal(json.items[0]!.operation, 'soci-v1');
    // What the worker receives is the parsed plan, checked the same way.
    assert.deepEqual(validatePlan(JSON.parse(JSON.stringify(json)), 'plan.json'), json);
  });

  it('names the file and the field of each mistake', () => {
    const cases: Array<[string, RegExp]> = [
      ['items: []', /^plan\.yaml: version: is required: 1$/],
      ['version: 1', /^plan\.yaml: items: is required: a list$/],
      ['version: 1\nitems: []', /^plan\.yaml: items: must list at least one item$/],
      ['version: 1\nitems: [{source: a.io/b:1}]\nextra: 1', /^plan\.yaml: extra: is not a known field/],
      ['version: 1\nitems:\n  - source: a.io/b:1\n  - source: a.io/b:2\n    operation: zip', /^plan\.yaml: items\[1\]\.operation: must be one of estargz, soci-v2, soci-v1, both$/],
      ['version: 1\nitems:\n  - source: a.io/b:1\n    estargz: { level: 12 }', /^plan\.yaml: items\[0\]\.estargz\.level: must be a whole number from 1 to 9$/],
      ['version: 1\nitems:\n  - source: a.io/b:1\n    soci: { spanSize: 0 }', /items\[0\]\.soci\.spanSize: must be a whole number from 1 to/],
      ['version: 1\nitems:\n  - source: a.io/b:1\n    soci: { prefetch: [1] }', /items\[0\]\.soci\.prefetch\[0\]: must be a non-empty string/],
      ['version: 1\nitems:\n  - source: "A.io/B C"', /items\[0\]\.source: Invalid reference/],
      ['version: 1\nitems:\n  - source: a.io/b:1\n    tags: "*"', /items\[0\]\.tags: applies to a repository or a registry prefix/],
      ['version: 1\nitems:\n  - source: a.io/b\n    tags: "v1.[0-9]"', /items\[0\]\.tags: must be a tag pattern/],
      ['version: 1\nitems:\n  - source: team/\n', /items\[0\]\.source: "team\/" is not a registry prefix/],
      ['version: 1\nitems:\n  - source: a.io/b:1\n    operation: both\n    destination: "<tag>-x"', /items\[0\]\.destination: operation both writes two images/],
      ['version: 1\ndefaults: { destination: { estargz: "<tag>-e" } }\nitems:\n  - source: a.io/b:1\n    operation: estargz', /items\[0\]\.destination: operation estargz writes one image/],
      ['version: 1\nitems:\n  - source: a.io/b:1\n    destination: "<version>"', /items\[0\]\.destination: <version> is not a placeholder/],
      ['version: 1\nitems:\n  - source: a.io/b:1\n    platform: linux', /items\[0\]\.platform: Invalid platform/],
      ['version: 1\nitems:\n  - source: a.io/b:1\n    platform: linux/amd64\n    allPlatforms: true', /items\[0\]\.allPlatforms: cannot go with platform/],
      ['version: 1\ndefaults: { source: a.io/b:1 }\nitems: [{source: a.io/b:1}]', /^plan\.yaml: defaults\.source: is not a known field/],
      ['version: 1\ncache: "a.io/c@sha256:1"\nitems: [{source: a.io/b:1}]', /^plan\.yaml: cache: Invalid reference/],
      ['version: 1\nitems: [\n', /^plan\.yaml: not valid YAML or JSON at line 3, column 1/],
      ['version: 1\nversion: 1\nitems: []', /^plan\.yaml: not valid YAML or JSON at line 2/],
      ['- 1', /^plan\.yaml: must be a mapping$/],
    ];
    for (const [text, message] of cases) assert.match(planError(text), message, text);
  });

  it('bounds what it reads: size, items, aliases', () => {
    assert.match(planError(`version: 1\nitems: [{source: a.io/b:1}]\n#${'x'.repeat(1024 * 1024)}`), /over the 1048576-byte limit/);
    const many = { version: 1, items: Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => ({ source: `a.io/b:${i}` })) };
    assert.match(planError(JSON.stringify(many)), /items: lists 10001 items, over the limit of 10000/);
    // A billion laughs needs aliases; a plan has no use for them.
    assert.match(planError('version: 1\nx: &a [1, 2]\ny: [*a, *a]\nitems: [{source: a.io/b:1}]'), /plan\.yaml: .*[Aa]lias/);
  });

  it('tells images from repositories and registry prefixes', () => {
    assert.equal(sourceKind('r.example:5000/app:1.0'), 'image');
    assert.equal(sourceKind('r.example:5000/app@sha256:' + 'a'.repeat(64)), 'image');
    assert.equal(sourceKind('r.example:5000/web'), 'repository');
    assert.equal(sourceKind('r.example:5000/team/'), 'prefix');
    assert.equal(sourceKind('oci:./layouts/base:bookworm'), 'image');
    assert.equal(sourceKind('oci:layout'), 'repository');
  });
});

describe('batch naming rules', () => {
  const src = parseReference('r.example:5000/team/app:1.0');
  const name = (rule: string | undefined, op: 'estargz' | 'soci-v2' | 'soci-v1' = 'estargz'): string => formatReference(destinationFor(src, rule, op));

  it('defaults: <tag>-esgz, <tag>-soci, and the source itself for SOCI v1', () => {
    assert.equal(name(undefined, 'estargz'), 'r.example:5000/team/app:1.0-esgz');
    assert.equal(name(undefined, 'soci-v2'), 'r.example:5000/team/app:1.0-soci');
    assert.equal(name(undefined, 'soci-v1'), 'r.example:5000/team/app:1.0');
  });

  it('fills the placeholders; a rule with no / and no : is a tag beside the source', () => {
    assert.equal(name('<tag>-lazy'), 'r.example:5000/team/app:1.0-lazy');
    assert.equal(name('<registry>/lazy/<name>:<tag>'), 'r.example:5000/lazy/app:1.0');
    assert.equal(name('<registry>/<repository>-esgz:<tag>'), 'r.example:5000/team/app-esgz:1.0');
    assert.equal(name('oci:/out/<name>:<tag>'), 'oci:/out/app:1.0');
    assert.equal(formatReference(destinationFor(parseReference('oci:./layouts/base:bookworm'), undefined, 'estargz')), 'oci:./layouts/base:bookworm-esgz');
  });

  it('refuses what cannot name a destination', () => {
    const digestOnly = parseReference(`r.example:5000/app@sha256:${'a'.repeat(64)}`);
    assert.throws(() => destinationFor(digestOnly, undefined, 'estargz'), /<tag> .* has no tag/);
    assert.throws(() => destinationFor(parseReference('oci:./l:x'), '<registry>/x:<tag>', 'estargz'), /<registry> .* has no value/);
    assert.throws(() => destinationFor(src, '<tag>+bad', 'estargz'), /Invalid reference/);
  });
});

describe('batch shards', () => {
  const l = (digest: string, size: number): { digest: string; size: number } => ({ digest, size });
  const fleet: ShardInput[] = [
    { name: 'web:1', layers: [l('A', 100), l('w1', 10)] },
    { name: 'api:1', layers: [l('B', 80), l('a1', 10)] },
    { name: 'web:2', layers: [l('A', 100), l('w2', 10)] },
    { name: 'db:1', layers: [l('C', 60), l('d1', 5)] },
    { name: 'api:2', layers: [l('B', 80), l('a2', 10)] },
    { name: 'job:1', layers: [l('C', 60), l('A', 100)] },
  ];

  it('keeps items that share a layer together, even through a chain', () => {
    const shards = assignShards(fleet, 3);
    // web:1, web:2, job:1 and db:1 share A or C; the api items share B.
    assert.equal(new Set([shards[0], shards[2], shards[3], shards[5]]).size, 1);
    assert.equal(shards[1], shards[4]);
    assert.notEqual(shards[0], shards[1]);
  });

  it('deals the largest group first to the emptiest shard, the same way every time and in every shard', () => {
    const groups: ShardInput[] = [
      { name: 'b', layers: [l('x', 50)] }, { name: 'a', layers: [l('y', 50)] }, { name: 'c', layers: [l('z', 200)] }, { name: 'd', layers: [l('u', 10)] },
    ];
    // z (200) to 0; then the ties x and y (50): 'a' first, by name, to 1, then 'b' to 2; u to 1 or 2 (1: fewer items first, then index).
    assert.deepEqual(assignShards(groups, 3), [2, 1, 0, 1]);
    for (let i = 0; i < 5; i++) assert.deepEqual(assignShards(fleet, 2), assignShards(fleet.map((f) => ({ ...f })), 2));
    assert.deepEqual(assignShards(fleet, 1), fleet.map(() => 0));
  });

  it('splits a group that would leave the other shards idle, costing each item by the layers no shard has yet', () => {
    // Every image on one base: one group of 300 bytes, all of the work, so its items are dealt one by one.
    const common: ShardInput[] = ['a', 'b', 'c', 'd'].map((n, i) => ({ name: n, layers: [l('base', 200), l(n, 40 + i)] }));
    const shards = assignShards(common, 2);
    // d (243) opens shard 0 with the base; c, b and a cost only their own layer: 42 to shard 1, 41 to 1, 40 to 1.
    assert.deepEqual(shards, [1, 1, 1, 0]);
    // The base belongs to shard 1, where a (the first item with it) is.
    assert.deepEqual(runOrder(common, shards, 1), [0, 1, 2]);
    assert.deepEqual(runOrder(common, shards, 0), [3]);
  });

  it('runs first the items whose layers no other shard owns', () => {
    const items: ShardInput[] = [
      { name: 'x', layers: [l('base', 10), l('x', 1)] }, { name: 'y', layers: [l('y', 5)] }, { name: 'z', layers: [l('base', 10), l('z', 1)] },
    ];
    // Shard 1 holds y (its own) and z (needs the base, owned by x's shard 0): y first.
    assert.deepEqual(runOrder(items, [0, 1, 1], 1), [1, 2]);
    assert.deepEqual(runOrder(items, [1, 1, 1], 1), [0, 1, 2]);
  });

  it('spreads items with no layers (unreadable sources) by count', () => {
    const empty = Array.from({ length: 4 }, (_, i) => ({ name: `x${i}`, layers: [] }));
    assert.deepEqual(assignShards(empty, 2).sort(), [0, 0, 1, 1]);
  });

  it('parses --shard and the Indexed Job environment', () => {
    assert.deepEqual(parseShard('1/3'), { index: 1, count: 3 });
    for (const bad of ['3/3', '-1/2', '1', '0/0', 'a/b']) assert.throws(() => parseShard(bad), /is not I\/N/, bad);
    assert.deepEqual(shardFromEnv({ JOB_COMPLETION_INDEX: '2', LAZYIMG_SHARDS: '3' }), { index: 2, count: 3 });
    assert.equal(shardFromEnv({}), undefined);
    assert.throws(() => shardFromEnv({ JOB_COMPLETION_INDEX: '0' }), /go together/);
    assert.throws(() => shardFromEnv({ JOB_COMPLETION_INDEX: '3', LAZYIMG_SHARDS: '3' }), /is not I\/N/);
  });
});

describe('batch cache keys', () => {
  it('are stable: the same key whatever the order of fields, a different one for any change', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2, c: undefined, e: 'x' }] }), '{"a":[{"d":2,"e":"x"}],"b":1}');
    const key = recordKey('estargz', { source: 'sha256:aa', level: 9, chunkSize: 4194304, prioritized: [] });
    assert.deepEqual(recordKey('estargz', { prioritized: [], chunkSize: 4194304, level: 9, source: 'sha256:aa' }), key);
    assert.match(key.tag, /^estargz-[0-9a-f]{64}$/);
    // The tag is fixed by the format: a change here orphans every cache already filled.
    assert.equal(key.text, '{"chunkSize":4194304,"format":"lazyimg-batch-cache/1 estargz/1 ztoc/soci-0.16","kind":"estargz","level":9,"prioritized":[],"source":"sha256:aa"}');
    assert.notEqual(recordKey('estargz', { source: 'sha256:aa', level: 8, chunkSize: 4194304, prioritized: [] }).tag, key.tag);
    assert.notEqual(recordKey('ztoc', { source: 'sha256:aa', level: 9, chunkSize: 4194304, prioritized: [] }).tag.slice(5), key.tag.slice(8));
    assert.notEqual(recordKey('estargz', { source: 'sha256:aa', level: 9, chunkSize: 4194304, prioritized: ['/a', '/b'] }).tag,
      recordKey('estargz', { source: 'sha256:aa', level: 9, chunkSize: 4194304, prioritized: ['/b', '/a'] }).tag, 'prioritized order changes the bytes');
  });
});
