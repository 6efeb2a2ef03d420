// Processes we know only by PID (the daemon may have been started by another lazyimg): alive?,
// ours?, and waiting for one to end without fixed sleeps.
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** False once the process is gone or a zombie (exited, not yet reaped by its parent). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The process's argv, or undefined when it is gone. */
export async function commandLine(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((a) => a !== '');
  } catch {
    return undefined;
  }
}

/**
 * When the process started, in ms since the epoch (to a second: the boot time is in seconds), or
 * undefined when it is gone. /proc gives its start in clock ticks after boot; USER_HZ, the unit
 * of /proc's times, is 100 on every architecture Node runs on.
 */
export async function processStartedAt(pid: number): Promise<number | undefined> {
  try {
    const [stat, machine] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile('/proc/stat', 'utf8')]);
    // Fields from the third (state) on follow the command name in parentheses; starttime is the 22nd.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const boot = Number(/^btime (\d+)$/m.exec(machine)?.[1]);
    return Number.isFinite(ticks) && Number.isFinite(boot) ? boot * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until the process has ended or the time is up; polls with a growing interval, since an
 * unrelated process gives no exit event. True when it ended.
 */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let interval = 10; ; interval = Math.min(interval * 2, 200)) {
    if (!(await isAlive(pid))) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await delay(Math.min(interval, left));
  }
}
