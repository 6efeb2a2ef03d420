// The daemon's log: its tail for error messages, and following it as it grows.
import { open, stat, watch } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** The last `lines` lines of a file between bytes `from` and `to` (at most 64 KiB are read). */
export async function logTail(file: string, lines = 20, from = 0, to?: number): Promise<string> {
  try {
    const size = to ?? (await stat(file)).size;
    const start = Math.max(from, size - 64 * 1024);
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(Math.max(0, size - start));
      await handle.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

/**
 * The reason in the daemons' JSON log (logrus): the `error` or `msg` of the last fatal or error
 * line, else undefined.
 */
export function lastLoggedError(tail: string): string | undefined {
  for (const line of tail.split('\n').reverse()) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string; error?: string };
      if (entry.level === 'fatal' || entry.level === 'error' || entry.level === 'panic') return entry.error ?? entry.msg;
    } catch {
      // not a JSON line: a Go panic or plain text
    }
  }
  return undefined;
}

/**
 * Yields the file's lines from its last `lines` on, then each new line, until the signal aborts.
 * Woken by fs.watch, and at least every second, as `tail -f` polls, for what watch misses.
 */
export async function* followFile(file: string, options: { lines?: number; signal?: AbortSignal } = {}): AsyncGenerator<string> {
  const watcher = watch(file, { signal: options.signal })[Symbol.asyncIterator]();
  let offset = (await stat(file)).size;
  const tail = await logTail(file, options.lines ?? 20, 0, offset);
  if (tail !== '') yield* tail.split('\n');
  let pending = '';
  try {
    for (;;) {
      const size = (await stat(file)).size;
      if (size < offset) offset = 0; // truncated or replaced
      if (size > offset) {
        const handle = await open(file, 'r');
        try {
          const buffer = Buffer.alloc(size - offset);
          await handle.read(buffer, 0, buffer.length, offset);
          offset = size;
          const parts = (pending + buffer.toString('utf8')).split('\n');
          pending = parts.pop()!;
          yield* parts;
        } finally {
          await handle.close();
        }
        continue; // more may have come while the lines were being consumed
      }
      if (options.signal?.aborted) return;
      const woken = await Promise.race([watcher.next(), delay(1000, undefined, { signal: options.signal })]);
      if (woken?.done) return;
    }
  } catch (e) {
    if ((e as Error).name === 'AbortError') return;
    throw e;
  } finally {
    await watcher.return?.();
  }
}
