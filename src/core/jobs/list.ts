// `ls`: repositories of a registry or tags of a repository, fetched one page at a time.
import type { Stores } from '../image/index.js';
import type { NamePage, RegistryTarget } from '../oci/index.js';

export interface ListOptions {
  /** Stop after this many names; only the pages needed for them are fetched. */
  limit?: number;
  pageSize?: number;
  signal?: AbortSignal;
}

/** Yields names page by page; the caller decides how far to go. */
export async function* listNames(stores: Stores, target: RegistryTarget, options: ListOptions = {}): AsyncGenerator<NamePage> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  // With a limit, no page asks for more than it needs.
  const pageSize = Math.min(options.pageSize ?? limit, limit);
  const paging = { signal: options.signal, pageSize: Number.isFinite(pageSize) ? pageSize : undefined };
  const pages = target.repository === undefined
    ? stores.repositories(target.registry, paging)
    : (await stores.open({ kind: 'registry', registry: target.registry, repository: target.repository })).listTags(paging);
  let remaining = limit;
  for await (const page of pages) {
    const names = page.names.slice(0, remaining);
    remaining -= names.length;
    yield { names, last: page.last || remaining <= 0 };
    if (remaining <= 0) return;
  }
}
