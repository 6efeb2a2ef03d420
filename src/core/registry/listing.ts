// Repository and tag listings, one page per iteration, following `Link: <...>; rel="next"`.
import { LazyImageError } from '../errors.js';
import type { NamePage, PageOptions } from '../oci/index.js';
import { readJson } from './body.js';
import { repositoryScope, type RegistryClient } from './client.js';
import { nextPageUrl } from './link.js';
import { responseError } from './responseError.js';

const MAX_PAGE_BYTES = 16 * 1024 * 1024;

/** `GET /v2/_catalog`: pages of repository names. */
export function listRepositories(client: RegistryClient, options: PageOptions = {}): AsyncGenerator<NamePage> {
  return pages(client, '/v2/_catalog', ['registry:catalog:*'], 'repositories', client.registry, options);
}

/** `GET /v2/<name>/tags/list`: pages of tags. */
export function listTags(client: RegistryClient, repository: string, options: PageOptions = {}): AsyncGenerator<NamePage> {
  return pages(client, `/v2/${repository}/tags/list`, [repositoryScope(repository, 'pull')], 'tags', `${client.registry}/${repository}`, options);
}

async function* pages(
  client: RegistryClient,
  path: string,
  scopes: string[],
  field: 'repositories' | 'tags',
  ref: string,
  options: PageOptions,
): AsyncGenerator<NamePage> {
  const pageSize = options.pageSize ?? client.options.pageSize;
  let next: string | URL | undefined = `${path}?n=${pageSize}${options.last !== undefined ? `&last=${encodeURIComponent(options.last)}` : ''}`;
  const seen = new Set<string>();
  const action = field === 'tags' ? `Cannot list tags of ${ref}` : `Cannot list repositories of ${ref}`;
  for (let page = 0; next !== undefined; page++) {
    if (page >= client.options.maxPages) throw new LazyImageError('REGISTRY', `${action}: more than ${client.options.maxPages} pages`, { ref });
    const res = await client.request({ method: 'GET', path: next, scopes, ...(options.signal ? { signal: options.signal } : {}) });
    if (res.status !== 200) {
      const error = await responseError(res, 'GET', action, ref);
      if (field === 'repositories' && (res.status === 404 || res.status === 405)) {
        throw new LazyImageError('UNSUPPORTED', `${action}: this registry does not offer a catalog (HTTP ${res.status}); add repositories by name`, { ref, cause: error });
      }
      throw error;
    }
    const current = res.url;
    seen.add(current.href);
    const link = res.headers.link;
    const doc = (await readJson(res, MAX_PAGE_BYTES, action)) as Record<string, unknown>;
    const items = doc[field] ?? [];
    if (!Array.isArray(items) || items.some((t) => typeof t !== 'string')) {
      throw new LazyImageError('INVALID_FORMAT', `${action}: "${field}" in the response is not a list of names`, { ref });
    }
    const url = nextPageUrl(Array.isArray(link) ? link.join(', ') : link, current, ref);
    // A registry that links back to a page we have seen would loop forever: stop there.
    next = url && !seen.has(url.href) ? url : undefined;
    yield { names: items as string[], last: next === undefined };
  }
}
