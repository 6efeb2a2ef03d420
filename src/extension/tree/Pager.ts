// Paged children: each list keeps the page iterator of its node and the names fetched so far,
// so "Load more..." asks for exactly one more page and a re-render asks for none.

import type { NamePage } from '../../core/oci/index.js';

/** Opens page iteration, starting after `last` when given (the registry API's `last`). */
export type PageSource = (last?: string) => AsyncIterable<NamePage>;

export class PagedList {
  readonly items: string[] = [];
  private readonly seen = new Set<string>();
  done = false;
  /** Why the last page failed; cleared when a page arrives. */
  error: unknown;
  private iterator: AsyncIterator<NamePage> | undefined;
  private loading: Promise<void> | undefined;

  constructor(private readonly open: PageSource) {}

  /**
   * Fetches the next page; concurrent callers share one request. It never rejects: a failure is
   * kept in `error`, and the next call resumes after the last name received.
   */
  loadNext(): Promise<void> {
    this.loading ??= (async () => {
      try {
        this.iterator ??= this.open(this.items.at(-1))[Symbol.asyncIterator]();
        const next = await this.iterator.next();
        // A resumed listing may repeat names (registries that ignore `last`): keep each once.
        for (const name of next.done ? [] : next.value.names.filter((n) => !this.seen.has(n))) {
          this.seen.add(name);
          this.items.push(name);
        }
        this.done = next.done === true || next.value.last;
        this.error = undefined;
      } catch (e) {
        this.error = e;
        this.iterator = undefined; // a generator that threw is finished
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  get started(): boolean {
    return this.items.length > 0 || this.done || this.error !== undefined;
  }
}

export class Pager {
  private readonly lists = new Map<string, PagedList>();

  /** The list for a node, created on first use. */
  list(id: string, open: PageSource): PagedList {
    let list = this.lists.get(id);
    if (!list) {
      list = new PagedList(open);
      this.lists.set(id, list);
    }
    return list;
  }

  /** Forgets the lists of a node and everything below it (all lists when no id is given). */
  reset(id?: string): void {
    for (const key of [...this.lists.keys()]) {
      if (id === undefined || key === id || key.startsWith(`${id}/`)) this.lists.delete(key);
    }
  }
}
