// How `ls-files` and `find` show entries of an image's merged root, and the layers with no listing.
import type { LayerGap, MergedEntry } from '../core/lazy/index.js';
import { formatBytes } from './format.js';

/** `reg  0644  1.2 KiB  L2  etc/passwd`, with `-> target` for a symbolic link, `=> target` for a hard link. */
export function entryLine(e: MergedEntry, detail = ''): string {
  const mode = (e.mode & 0o7777).toString(8).padStart(4, '0');
  const size = e.type === 'reg' ? formatBytes(e.size) : '-';
  const target = e.type === 'symlink' ? ` -> ${e.linkname}` : e.hardlink !== undefined ? ` => /${e.hardlink}` : e.type === 'hardlink' ? ` => /${e.linkname} (not in its layer)` : '';
  return `${e.type.padEnd(8)} ${mode} ${size.padStart(10)}  L${String(e.layer).padEnd(3)} /${e.path}${target}${detail}`;
}

export function gapLines(gaps: readonly LayerGap[]): string[] {
  return gaps.map((g) => `Not listed: layer ${g.index} ${g.digest}: ${g.reason}`);
}
