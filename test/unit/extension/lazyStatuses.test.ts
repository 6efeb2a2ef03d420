// LazyStatuses, the tree's background reads of whether each image row is lazy: three at a time,
// top row first, each row read once; and what an expansion reads replaces a status without
// redrawing the row unless it changed (a redraw lists the row's children, which sets it again).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { imageLaziness, Stores } from '../../../src/core/image/index.js';
import { convertImage } from '../../../src/core/jobs/index.js';
import { parseReference, type ImageReference, type OciLayoutStore } from '../../../src/core/oci/index.js';
import { LazyStatuses } from '../../../src/extension/tree/LazyStatuses.js';
import { writeSampleImage } from '../../../scripts/sampleImage.js';
import { tempLayout } from '../../helpers/images.js';

describe('LazyStatuses', () => {
  let layout: OciLayoutStore;
  const stores = new Stores();

  before(async () => {
    layout = await tempLayout('lazyimg-statuses-');
    await writeSampleImage(layout, 'plain', 16 * 1024);
    await convertImage(layout, 'plain', layout, 'esgz');
  });
  after(async () => {
    await stores.close();
    await rm(layout.dir, { recursive: true, force: true });
  });

  /** Statuses whose `changed` calls resolve `arrived` once `n` rows are known; `opened` lists the reads in the order they started. */
  const watch = (n: number) => {
    const changed: string[] = [];
    const opened: string[] = [];
    let done!: () => void;
    const arrived = new Promise<void>((resolve) => (done = resolve));
    const recording = { open: (r: ImageReference) => (opened.push(r.tag ?? ''), stores.open(r)) } as Stores;
    const statuses = new LazyStatuses(() => recording, (id) => {
      changed.push(id);
      if (changed.length === n) done();
    });
    return { statuses, changed, opened, arrived };
  };
  const ref = (tag: string) => parseReference(`oci:${layout.dir}:${tag}`);

  it('reads each row once, top first, three at a time, and tells which row arrived', async () => {
    const { statuses, changed, opened, arrived } = watch(5);
    assert.equal(statuses.get('a', ref('plain'), false), undefined, 'a row not to be read stays unknown');
    assert.deepEqual(statuses.get('a', ref('plain'), true), { kind: 'loading' });
    for (const [id, tag] of [['b', 'esgz'], ['a', 'plain'], ['c', 'plain'], ['d', 'esgz'], ['e', 'plain']] as const) statuses.get(id, ref(tag), true);
    assert.deepEqual(opened, ['plain', 'esgz', 'plain'], 'the first three rows start at once; a row drawn again while loading is not queued twice');
    await arrived;
    assert.deepEqual(opened, ['plain', 'esgz', 'plain', 'esgz', 'plain']);
    assert.deepEqual([...changed].sort(), ['a', 'b', 'c', 'd', 'e']);
    const a = statuses.get('a', ref('plain'), true);
    const b = statuses.get('b', ref('esgz'), true);
    assert.equal(a?.kind === 'known' && a.summary.text, 'not lazy');
    assert.equal(b?.kind === 'known' && b.summary.text, 'eStargz');
  });

  it('says why a row could not be read', async () => {
    const { statuses, arrived } = watch(1);
    statuses.get('gone', ref('no-such-tag'), true);
    await arrived;
    const status = statuses.get('gone', ref('no-such-tag'), true);
    assert.equal(status?.kind, 'failed');
    assert.match(status?.kind === 'failed' ? status.message : '', /no-such-tag/);
  });

  it('redraws a row that an expansion set only when its status changed', async () => {
    const { statuses, changed } = watch(Infinity);
    const esgz = await imageLaziness(layout, 'esgz');
    statuses.set('row', esgz);
    statuses.set('row', esgz);
    statuses.set('row', esgz);
    assert.deepEqual(changed, ['row'], 'setting the same status again must not redraw (it loops)');
    statuses.set('row', await imageLaziness(layout, 'plain'));
    assert.deepEqual(changed, ['row', 'row']);
  });

  it('forgets a row and the rows below it, so a refresh reads them again', async () => {
    const { statuses } = watch(Infinity);
    const esgz = await imageLaziness(layout, 'esgz');
    for (const id of ['reg/repo/a', 'reg/repo/b', 'reg/other/c']) statuses.set(id, esgz);
    statuses.forget('reg/repo');
    assert.equal(statuses.get('reg/repo/a', ref('esgz'), false), undefined);
    assert.equal(statuses.get('reg/repo/b', ref('esgz'), false), undefined);
    assert.equal(statuses.get('reg/other/c', ref('esgz'), false)?.kind, 'known');
    statuses.forget();
    assert.equal(statuses.get('reg/other/c', ref('esgz'), false), undefined);
  });
});
