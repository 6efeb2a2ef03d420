// The layering rules, checked on the sources (as go-containerregistry's depcheck does): the core
// never depends on VS Code or on the layers above it.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(__dirname, '..', '..', '..');

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [join(dir, e.name)] : []))));
  return nested.flat();
}

function imports(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
}

const rules = [
  { name: 'src/core never imports vscode', dir: 'src/core', forbidden: (spec: string) => spec === 'vscode' },
  { name: 'src/core never imports the CLI, the worker or the extension', dir: 'src/core', forbidden: (spec: string) => /\/(cli|worker|extension)\//.test(spec) },
  { name: 'src/cli never imports vscode or the extension', dir: 'src/cli', forbidden: (spec: string) => spec === 'vscode' || /\/extension\//.test(spec) },
];

describe('module boundaries', () => {
  for (const rule of rules) {
    it(rule.name, async () => {
      const files = await sources(join(ROOT, rule.dir));
      assert.ok(files.length > 0, `no sources under ${rule.dir}`);
      const offenders: string[] = [];
      for (const file of files) {
        for (const spec of imports(await readFile(file, 'utf8'))) {
          if (rule.forbidden(spec)) offenders.push(`${relative(ROOT, file)} imports ${spec}`);
        }
      }
      assert.deepEqual(offenders, []);
    });
  }
});
