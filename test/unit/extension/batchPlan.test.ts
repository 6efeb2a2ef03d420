// The batch commands' plan from a tree selection and the wizard's choices, the tag rule check, and
// the final notification's counts, which come from the item events alone.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { parseReference } from '../../../src/core/oci/index.js';
import { batchOutcome, batchPlan, planYaml, tagRuleProblem } from '../../../src/extension/commands/batchPlan.js';
import type { BatchItemResult, BatchResult } from '../../../src/worker/protocol.js';

function item(source: string, outcome: BatchItemResult['outcome'], built: number, reused: number, skipped = 0): BatchItemResult {
  return {
    type: 'item', source, operation: 'soci-v2', destination: `${source}-soci`, outcome, layers: { built, reused, skipped },
    bytes: { read: 0, written: 0 }, seconds: 1, shard: '1/1', ...(outcome === 'failed' ? { error: { code: 'NOT_FOUND', message: 'no such tag' } } : {}),
  };
}

function result(items: BatchItemResult[]): BatchResult {
  return {
    events: items,
    summary: { type: 'summary', shard: '1/1', items: items.length, done: 0, skipped: 0, failed: 0, distinctLayers: 0, layersBuilt: 0, layersReused: 0, seconds: 1 },
  };
}

describe('batch plans from the tree', () => {
  it('lists each selected tag once, with the choices as defaults and no empty option', () => {
    const images = ['127.0.0.1:5000/app:1', '127.0.0.1:5000/app:2', '127.0.0.1:5000/app:1'].map((r) => parseReference(r));
    const plan = batchPlan({ kind: 'images', images }, { operation: 'soci-v2', destination: '<tag>-soci', allPlatforms: false, soci: { spanSize: 1048576, minLayerSize: undefined } });
    assert.deepEqual(plan, {
      version: 1,
      defaults: { operation: 'soci-v2', destination: '<tag>-soci', soci: { spanSize: 1048576 } },
      items: [{ source: '127.0.0.1:5000/app:1' }, { source: '127.0.0.1:5000/app:2' }],
    });
  });

  it('makes a repository with a tag glob one item, and eStargz options with prioritized files', () => {
    const plan = batchPlan({ kind: 'repository', registry: 'ghcr.io', repository: 'team/web', tags: 'v1.*' }, {
      operation: 'estargz', destination: '<tag>-esgz', allPlatforms: true, estargz: { level: 9, chunkSize: undefined, prioritized: ['/bin/sh'] },
    });
    assert.deepEqual(plan, {
      version: 1,
      defaults: { operation: 'estargz', destination: '<tag>-esgz', allPlatforms: true, estargz: { level: 9, prioritized: ['/bin/sh'] } },
      items: [{ source: 'ghcr.io/team/web', tags: 'v1.*' }],
    });
  });

  it('writes YAML that reads back as the same plan', () => {
    const plan = batchPlan({ kind: 'images', images: [parseReference('127.0.0.1:5000/app:1')] }, { operation: 'soci-v1', allPlatforms: false });
    const text = planYaml(plan);
    assert.match(text, /^# A lazyimg batch plan/);
    assert.deepEqual(parse(text), plan);
  });

  it('takes only tag rules that give each image a tag of its own', () => {
    assert.equal(tagRuleProblem('<tag>-soci'), undefined);
    assert.equal(tagRuleProblem('lazy-<tag>'), undefined);
    assert.match(tagRuleProblem('soci') ?? '', /needs <tag>/);
    assert.match(tagRuleProblem('<tag>/soci') ?? '', /not a valid tag/);
    assert.match(tagRuleProblem('') ?? '', /Enter a rule/);
  });

  it('counts the images made and the layers reused from the item events', () => {
    const three = result([item('a:1', 'done', 3, 0), item('a:2', 'done', 1, 2), item('a:3', 'done', 1, 2)]);
    assert.deepEqual(batchOutcome(three, 'SOCI image', 'SOCI images'), { message: '3 SOCI images made; 4 of 9 layers reused', failed: false });
    const mixed = result([item('a:1', 'done', 1, 0, 2), item('a:2', 'skipped', 0, 0), item('a:3', 'failed', 0, 0)]);
    assert.deepEqual(batchOutcome(mixed, 'SOCI image', 'SOCI images'), {
      message: '1 SOCI image made; 0 of 1 layer reused; 2 layers too small for a zTOC; 1 already up to date; 1 failed: a:3: no such tag',
      failed: true,
    });
  });
});
