import { LazyImageError } from './errors.js';

/**
 * Runs `work` over `items` with at most `limit` in flight. On the first failure no new item is
 * started and the error is rethrown once the running ones have settled, so nothing keeps
 * writing after the job has failed.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new LazyImageError('INVALID_ARGUMENT', `Concurrency must be a positive integer, not ${limit}`);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const runner = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const index = next++;
      try {
        await work(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  if (failure) throw failure.error;
}

/**
 * `main`'s value once it and `others` have all settled: a failure is rethrown only then, so work
 * running beside it (a copy cleaning up its temporary file) has finished too.
 */
export async function afterAll<T>(main: Promise<T>, ...others: Array<Promise<unknown> | undefined>): Promise<T> {
  const settled = await Promise.allSettled([main, ...others]);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return main;
}
