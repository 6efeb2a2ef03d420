// FUSE mounts a daemon left behind: it unmounts its layers only when stopped with SIGINT, so
// after a SIGKILL (or a crash) they stay, answering "transport endpoint is not connected".
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface MountInfo {
  mountPoint: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/<pid>/mountinfo text (proc(5)); lines it cannot read are skipped. */
export function parseMountInfo(text: string): MountInfo[] {
  const mounts: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (right === undefined) continue;
    const fields = left!.split(' ');
    const [fsType, source] = right.split(' ');
    if (fields.length < 6 || fsType === undefined) continue;
    mounts.push({ mountPoint: unescape(fields[4]!), fsType: unescape(fsType), source: unescape(source ?? '') });
  }
  return mounts;
}

/** The FUSE mounts at or under `root`, deepest first (the order to unmount them in). */
export async function fuseMountsUnder(root: string, mountinfo = '/proc/self/mountinfo'): Promise<MountInfo[]> {
  const base = root.replace(/\/+$/, '');
  const text = await readFile(mountinfo, 'utf8');
  return parseMountInfo(text)
    .filter((m) => m.fsType.startsWith('fuse') && (m.mountPoint === base || m.mountPoint.startsWith(`${base}/`)))
    .sort((a, b) => b.mountPoint.length - a.mountPoint.length);
}

/**
 * Lazily unmounts every FUSE mount under `root` and returns the mount points, with the ones
 * that could not be unmounted and why. Root uses umount; others fusermount, which may unmount
 * their own FUSE mounts.
 */
export async function unmountFuseUnder(root: string): Promise<{ unmounted: string[]; failed: { mountPoint: string; reason: string }[] }> {
  const unmounted: string[] = [];
  const failed: { mountPoint: string; reason: string }[] = [];
  for (const m of await fuseMountsUnder(root)) {
    try {
      if (process.getuid?.() === 0) await exec('umount', ['-l', m.mountPoint]);
      else await exec('fusermount3', ['-uz', m.mountPoint]).catch(() => exec('fusermount', ['-uz', m.mountPoint]));
      unmounted.push(m.mountPoint);
    } catch (e) {
      failed.push({ mountPoint: m.mountPoint, reason: ((e as { stderr?: string }).stderr || (e as Error).message).trim() });
    }
  }
  return { unmounted, failed };
}
