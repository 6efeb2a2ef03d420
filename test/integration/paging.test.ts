// Listings page by page against real registries, in every auth mode: distribution 3 pages tags
// with Link headers, Debian's 2.8 pages only the catalog (and returns every tag at once).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Stores } from '../../src/core/image/index.js';
import { parseReference } from '../../src/core/oci/index.js';
import { forEachLimit } from '../../src/core/pool.js';
import { copyImage, listNames } from '../../src/core/jobs/index.js';
import { sampleLayout } from '../helpers/images.js';
import { pushManyTags } from './fixtures/tags.js';
import { runCli } from './fixtures/cli.js';
import { credentialsFor, startRegistry, type RegistryAuth, type RegistryFixture, type RegistryFlavor } from './fixtures/registry.js';
import { dockerConfigFor } from './fixtures/cli.js';

const TAGS = 2500;

const setups: Array<[RegistryFlavor, RegistryAuth]> = [['3', 'none'], ['3', 'token'], ['2.8', 'none'], ['2.8', 'basic'], ['2.8', 'token']];

for (const [flavor, auth] of setups) {
  describe(`paging on distribution ${flavor}, auth=${auth}`, () => {
    let registry: RegistryFixture;
    let stores: Stores;
    let pushed: string[];
    let dockerConfig: string;

    before(async () => {
      registry = await startRegistry({ flavor, auth, accessLog: true });
      stores = new Stores({ credentials: credentialsFor(registry) });
      dockerConfig = await dockerConfigFor(registry.host, registry.username, registry.password);
      pushed = await pushManyTags(await stores.open(parseReference(`${registry.host}/many/tags`)), TAGS);
    });
    after(async () => {
      await stores.close();
      await registry.stop();
    });

    const tagListRequests = async (): Promise<number> => (await registry.requests()).filter((r) => r.includes('/v2/many/tags/tags/list')).length;

    it(`lists all ${TAGS + 1} tags of one repository, page by page`, async () => {
      const before = await tagListRequests();
      const pages: string[][] = [];
      const lastFlags: boolean[] = [];
      for await (const page of (await stores.open(parseReference(`${registry.host}/many/tags`))).listTags({ pageSize: 100 })) {
        pages.push(page.names);
        lastFlags.push(page.last);
      }
      assert.deepEqual(lastFlags, pages.map((_, i) => i === pages.length - 1), 'only the final page says it is the last');
      const all = pages.flat();
      assert.equal(all.length, pushed.length);
      assert.deepEqual([...all].sort(), [...pushed].sort());
      assert.equal(new Set(all).size, all.length, 'no tag listed twice');
      const requests = (await tagListRequests()) - before;
      assert.equal(requests, pages.length, 'one request per page');
      if (flavor === '3') {
        assert.equal(pages.length, Math.ceil(pushed.length / 100));
        assert.ok(pages.slice(0, -1).every((p) => p.length === 100));
      } else {
        assert.equal(pages.length, 1, 'distribution 2.8 ignores n for tags and sends them all');
      }
    });

    it('fetches only the pages a limit needs', async () => {
      const before = await tagListRequests();
      const got: string[] = [];
      for await (const page of listNames(stores, { registry: registry.host, repository: 'many/tags' }, { limit: 250, pageSize: 100 })) got.push(...page.names);
      assert.equal(got.length, 250);
      assert.equal((await tagListRequests()) - before, flavor === '3' ? 3 : 1);
      const cli = await runCli(['ls', '--limit', '5', '--json', `${registry.host}/many/tags`], { DOCKER_CONFIG: dockerConfig });
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal((JSON.parse(cli.stdout) as string[]).length, 5);
    });

    it('pages the catalog through Link headers', async () => {
      const source = await sampleLayout(64 * 1024);
      const names = Array.from({ length: 23 }, (_, i) => `catalog/repo-${String(i).padStart(2, '0')}`);
      await forEachLimit(names, 4, async (name) => {
        await copyImage(source, 'sample', await stores.open(parseReference(`${registry.host}/${name}:v1`)), 'v1');
      });
      const catalogRequests = async (): Promise<number> => (await registry.requests()).filter((r) => r.includes('/v2/_catalog')).length;
      const before = await catalogRequests();
      const pages: string[][] = [];
      for await (const page of listNames(stores, { registry: registry.host }, { pageSize: 5 })) pages.push(page.names);
      const listed = pages.flat();
      for (const name of [...names, 'many/tags']) assert.ok(listed.includes(name), `${name} listed`);
      assert.ok(pages.length >= 5, `${pages.length} pages of at most 5`);
      assert.ok(pages.every((p) => p.length <= 5));
      assert.equal((await catalogRequests()) - before, pages.length);
    });
  });
}

