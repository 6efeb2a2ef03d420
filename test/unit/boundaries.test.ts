// The layering rules, checked on the sources (as go-containerregistry's depcheck does): the core
// never depends on VS Code or on the layers above it, and every layer reaches a core package only
// through its index module (`core/<package>/index.ts`), the package's public surface.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(__dirname, '..', '..', '..');
const CORE = join(ROOT, 'src', 'core');

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [join(dir, e.name)] : []))));
  return nested.flat();
}

function imports(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
}

/**
 * An import of a core module that is not a package's index, from a file outside that package
 * (`core/errors.js`, a module of its own at the top of core, is fine).
 */
function reachesPast(file: string, spec: string): boolean {
  if (!spec.startsWith('.')) return false;
  const target = relative(CORE, resolve(dirname(file), spec));
  const [pkg, ...rest] = target.split('/');
  if (target.startsWith('..') || rest.length === 0) return false; // outside core, or a top-level core module
  const from = relative(CORE, file).split('/');
  const samePackage = from.length > 1 && from[0] === pkg;
  return !samePackage && rest.join('/') !== 'index.js';
}

const rules = [
  { name: 'src/core never imports vscode', dir: 'src/core', forbidden: (_file: string, spec: string) => spec === 'vscode' },
  { name: 'src/core never imports the CLI, the worker or the extension', dir: 'src/core', forbidden: (_file: string, spec: string) => /\/(cli|worker|extension)\//.test(spec) },
  { name: 'src/cli never imports vscode or the extension', dir: 'src/cli', forbidden: (_file: string, spec: string) => spec === 'vscode' || /\/extension\//.test(spec) },
  { name: 'core packages reach each other only through their index modules', dir: 'src/core', forbidden: reachesPast },
  { name: 'the extension reaches core only through its index modules', dir: 'src/extension', forbidden: reachesPast },
  { name: 'the CLI reaches core only through its index modules', dir: 'src/cli', forbidden: reachesPast },
  { name: 'the worker reaches core only through its index modules', dir: 'src/worker', forbidden: reachesPast },
];

describe('module boundaries', () => {
  for (const rule of rules) {
    it(rule.name, async () => {
      const files = await sources(join(ROOT, rule.dir));
      assert.ok(files.length > 0, `no sources under ${rule.dir}`);
      const offenders: string[] = [];
      for (const file of files) {
        for (const spec of imports(await readFile(file, 'utf8'))) {
          if (rule.forbidden(file, spec)) offenders.push(`${relative(ROOT, file)} imports ${spec}`);
        }
      }
      assert.deepEqual(offenders, []);
    });
  }

  it('the extension never imports a registry client or a layout store: it goes through Stores and ImageStore', async () => {
    const offenders: string[] = [];
    for (const file of await sources(join(ROOT, 'src', 'extension'))) {
      for (const [, names] of (await readFile(file, 'utf8')).matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from/g)) {
        for (const name of ['RegistryClient', 'OciLayoutStore', 'RegistryStore', 'listRepositories', 'listTags']) {
          if (new RegExp(`\\b${name}\\b`).test(names!)) offenders.push(`${relative(ROOT, file)} imports ${name}`);
        }
      }
    }
    assert.deepEqual(offenders, []);
  });
});
