// The programs a recording runs (runc, strace): a path as given, or a name found on PATH. A missing
// one is a NOT_FOUND error that says what it is for and how to get it.
import { access, constants, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { LazyImageError } from '../errors.js';

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `name` is a path (with a slash) or a program name; `role` and `hint` go into the error. */
export async function findTool(name: string, role: string, hint: string, pathEnv = process.env.PATH ?? ''): Promise<string> {
  if (name.includes('/')) {
    if (await isExecutable(name)) return name;
    throw new LazyImageError('NOT_FOUND', `Cannot find ${role}: ${name} is not an executable file; ${hint}`, { ref: name });
  }
  for (const dir of pathEnv.split(delimiter)) {
    if (isAbsolute(dir) && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  throw new LazyImageError('NOT_FOUND', `Cannot find ${role}: no ${name} on PATH (${pathEnv || 'empty'}); ${hint}`, { ref: name });
}
