// How the workload's container can be made: as root (namespaces, an overlay, cgroups), or, for
// another user, rootless: runc in a user namespace that maps the caller to the workload's user.
// That needs a kernel that lets unprivileged users make user namespaces; where it does not, the
// error says which setting forbids it.
import { readFile } from 'node:fs/promises';
import { LazyImageError } from '../errors.js';

export type Privileges = { kind: 'root' } | { kind: 'rootless'; uid: number; gid: number };

/** The kernel settings that decide whether a user other than root may make a user namespace. */
const USERNS_SETTINGS: Array<{ file: string; name: string; forbids: (value: string) => boolean }> = [
  { file: 'sys/user/max_user_namespaces', name: 'user.max_user_namespaces', forbids: (v) => Number(v) === 0 },
  // Debian's and Ubuntu's switch, and Ubuntu's AppArmor restriction (24.04 and later).
  { file: 'sys/kernel/unprivileged_userns_clone', name: 'kernel.unprivileged_userns_clone', forbids: (v) => v === '0' },
  { file: 'sys/kernel/apparmor_restrict_unprivileged_userns', name: 'kernel.apparmor_restrict_unprivileged_userns', forbids: (v) => v === '1' },
];

export async function privileges(where: string, ids = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }, proc = '/proc'): Promise<Privileges> {
  if (ids.uid === 0) return { kind: 'root' };
  for (const setting of USERNS_SETTINGS) {
    const value = (await readFile(`${proc}/${setting.file}`, 'utf8').catch(() => undefined))?.trim();
    if (value !== undefined && setting.forbids(value)) {
      throw new LazyImageError('UNSUPPORTED', `Cannot run the workload of ${where}: not root, and this system lets no user but root make user namespaces (${setting.name} = ${value}), which rootless runc needs; run lazyimg as root`, { ref: where });
    }
  }
  return { kind: 'rootless', uid: ids.uid, gid: ids.gid };
}
