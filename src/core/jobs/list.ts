// `ls`: repositories of a registry or tags of a repository, fetched one page at a time.
import type { NamePage, RegistryTarget } from '../oci/index.js';
import { listRepositories, listTags } from '../registry/index.js';
import type { Stores } from './stores.js';

export interface ListOptions {
  /** Stop after this many names; only the pages needed for them are fetched. */
  limit?: number;
  pageSize?: number;
  signal?: AbortSignal;
}

/** Yields names page by page; the caller decides how far to go. */
export async function* listNames(stores: Stores, target: RegistryTarget, options: ListOptions = {}): AsyncGenerator<NamePage> {
  const client = stores.client(target.registry);
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const pageSize = Math.min(options.pageSize ?? client.options.pageSize, limit);
  const paging = { pageSize, ...(options.signal ? { signal: options.signal } : {}) };
  const pages = target.repository === undefined ? listRepositories(client, paging) : listTags(client, target.repository, paging);
  let remaining = limit;
  for await (const page of pages) {
    const names = page.names.slice(0, remaining);
    remaining -= names.length;
    yield { names, last: page.last || remaining <= 0 };
    if (remaining <= 0) return;
  }
}
