// The daemon as a systemd unit: started, stopped and restarted by systemctl, its log read with
// journalctl. Never through a silent sudo: without root the error names the command to run.
import { execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { SnapshotterError } from '../errors.js';

export type UnitAction = 'start' | 'stop' | 'restart';

function run(command: string, args: string[], timeoutMs = 30_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout: `${stdout}`, stderr: `${stderr}` || (error && code === -1 ? error.message : '') });
    });
  });
}

/** True when systemd runs this machine (containers and WSL often have none). */
export async function systemdRunning(): Promise<boolean> {
  return access('/run/systemd/system').then(() => true, () => false);
}

/** True when systemd knows the unit (installed, enabled or not). */
export async function unitExists(unit: string): Promise<boolean> {
  if (!(await systemdRunning())) return false;
  const { code, stdout } = await run('systemctl', ['list-unit-files', '--no-legend', '--', unit]);
  return code === 0 && stdout.trim() !== '';
}

/** `active`, `inactive`, `failed`, `activating`... as systemctl is-active says. */
export async function unitState(unit: string): Promise<string> {
  const { stdout } = await run('systemctl', ['is-active', '--', unit]);
  return stdout.trim() || 'unknown';
}

/** The unit's main process, or undefined when it runs none. */
export async function unitMainPid(unit: string): Promise<number | undefined> {
  const { stdout } = await run('systemctl', ['show', '--property=MainPID', '--value', '--', unit]);
  const pid = Number(stdout.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** The command line for an action on the unit, as the user would type it. */
export function systemctlCommand(action: UnitAction, unit: string): string {
  return `systemctl ${action} ${unit}`;
}

/** systemctl start|stop|restart; as another user than root, an error with the command to run. */
export async function controlUnit(action: UnitAction, unit: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new SnapshotterError('DENIED', `Cannot ${action} ${unit}: that needs root`, { state: 'needs-root', action: `run: sudo ${systemctlCommand(action, unit)}`, ref: unit });
  }
  const { code, stderr } = await run('systemctl', [action, '--', unit], 120_000);
  if (code !== 0) {
    throw new SnapshotterError('IO', `systemctl ${action} ${unit} failed: ${stderr.trim() || `exit code ${code}`}`, { state: action === 'stop' ? 'stop-failed' : 'died', action: `see: journalctl -u ${unit} -e`, ref: unit });
  }
}

/** Yields the unit's journal lines (`journalctl -u <unit> -f`) until the signal aborts. */
export async function* followJournal(unit: string, options: { lines?: number; signal?: AbortSignal } = {}): AsyncGenerator<string> {
  const child = spawn('journalctl', ['-u', unit, '-f', '-n', String(options.lines ?? 20), '--no-pager', '-o', 'cat'], { stdio: ['ignore', 'pipe', 'ignore'], signal: options.signal });
  child.on('error', () => undefined); // an abort ends the loop below
  try {
    for await (const line of createInterface({ input: child.stdout })) yield line;
  } finally {
    child.kill();
  }
}
