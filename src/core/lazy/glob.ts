// Shell-style globs over image paths: `*` and `?` within a name, `**` across folders, `{a,b}`
// alternatives, `[...]` classes. A glob without a slash matches names; with one, whole paths from
// the root.

/** Whether a glob matches a clean path (no leading slash). */
export function globMatcher(glob: string): (path: string) => boolean {
  const byPath = glob.includes('/');
  const pattern = new RegExp(`^${toRegExp(glob.replace(/^\/+/, ''))}$`, 'u');
  return byPath ? (path) => pattern.test(path) : (path) => pattern.test(path.slice(path.lastIndexOf('/') + 1));
}

function toRegExp(glob: string): string {
  let out = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` also matches no folder at all.
      if (glob[i + 2] === '/') {
        out += '(?:.*/)?';
        i += 2;
      } else {
        out += '.*';
        i += 1;
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) out += '|';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) out += '\\[';
      else {
        const body = glob.slice(i + 1, close).replace(/^!/, '^').replace(/[\\\]]/g, '\\$&');
        out += `[${body}]`;
        i = close;
      }
    } else out += c.replace(/[.+^${}()|\\/\]]/g, '\\$&');
  }
  return out + ')'.repeat(braces);
}
