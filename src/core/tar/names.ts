// Entry names as readers use them.

/** The path a reader uses for an entry: `./a/b/`, `/a/b` and `a/b` are all `a/b`. */
export function cleanEntryName(name: string): string {
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/** The OCI layer names that delete from lower layers: `.wh.<name>` removes `<name>`, the opaque marker a folder's lower children. */
export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
