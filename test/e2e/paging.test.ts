// A repository with 2,500 tags in the real UI: the first page appears without loading the rest,
// and "Load more..." fetches exactly one more page (counted in the registry's access log).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Stores } from '../../src/core/image/index.js';
import { parseReference } from '../../src/core/oci/index.js';
import { startRegistry, type RegistryFixture } from '../integration/fixtures/registry.js';
import { pushManyTags } from '../integration/fixtures/tags.js';
import { startCodeServer, type CodeServer } from './harness/codeServer.js';
import { Workbench } from './harness/workbench.js';

const PAGE = 100;

describe('paging 2,500 tags in the Lazy Images view', { timeout: 240_000 }, () => {
  let registry: RegistryFixture;
  let server: CodeServer;
  let bench: Workbench;
  let tags: string[];

  before(async () => {
    registry = await startRegistry({ flavor: '3', accessLog: true });
    const stores = new Stores();
    tags = (await pushManyTags(await stores.open(parseReference(`${registry.host}/big/repo`)), 2500)).sort();
    await stores.close();
    server = await startCodeServer({ settings: { 'lazyImages.registries': [registry.host], 'lazyImages.pageSize': PAGE } });
    bench = await Workbench.open(server, 'paging');
  });
  after(async () => {
    await bench?.close();
    await server?.stop();
    await registry?.stop();
  });

  const tagListRequests = async (): Promise<number> => (await registry.requests()).filter((r) => r.startsWith('GET /v2/big/repo/tags/list')).length;

  /** The rows up to "Load more...", once End has scrolled the tree to a bottom that has `tag`. */
  const lastRows = async (tag: string): Promise<string[]> => {
    // A tag row's label is its tag, then (once read) whether it is lazy.
    const tagOf = (label: string): string => label.split(' ')[0]!;
    const rows = await bench.waitForRows((labels) => labels.some((l) => tagOf(l) === tag) && labels.includes('Load more...'), async () => {
      await bench.focusTree();
      await bench.page.keyboard.press('End');
    });
    return rows.slice(0, rows.indexOf('Load more...') + 1).map((l) => (l === 'Load more...' ? l : tagOf(l)));
  };

  it('shows the first page of tags and a Load more node, after one tag-list request', async () => {
    await bench.expand(registry.host);
    await bench.expand('big/repo');
    await bench.row(tags[0] as string).waitFor();
    const rows = await lastRows(tags[PAGE - 1] as string);
    assert.equal(rows.at(-1), 'Load more...');
    assert.equal(rows.at(-2), tags[PAGE - 1], 'the last tag shown is the 100th');
    assert.ok(!rows.includes(tags[PAGE] as string));
    assert.equal(await tagListRequests(), 1, 'one request for the first page, none for the rest');
    await bench.screenshot('first-page');
  });

  it('fetches exactly one more page per Load more', async () => {
    await bench.click(bench.row('Load more...'));
    const rows = await lastRows(tags[2 * PAGE - 1] as string);
    assert.equal(rows.at(-1), 'Load more...');
    assert.equal(rows.at(-2), tags[2 * PAGE - 1]);
    assert.equal(await tagListRequests(), 2);
    await bench.screenshot('second-page');
  });
});
