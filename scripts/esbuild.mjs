// Bundles the entry points that exist into dist/. Type-checking is `npm run typecheck`'s job.
import { build } from 'esbuild';
import { existsSync, readdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const entries = [
  { in: 'src/cli/main.ts', out: 'cli', platform: 'node' },
  { in: 'src/worker/main.ts', out: 'worker', platform: 'node' },
  // The scripts of the compression and zTOC threads, loaded by path next to the bundles that use them.
  { in: 'src/core/estargz/gzipWorker.ts', out: 'gzipWorker', platform: 'node' },
  { in: 'src/core/soci/ztocWorker.ts', out: 'ztocWorker', platform: 'node' },
  { in: 'src/extension/extension.ts', out: 'extension', platform: 'node', external: ['vscode'] },
  // Loaded by the extension by path on first use, so its size costs nothing at activation.
  { in: 'src/extension/snapshotters/snapshotterCore.ts', out: 'snapshotterCore', platform: 'node' },
  // One bundle per report, webview/<report>/main.ts, with the CSS it imports beside it; the
  // webview loads them when a report opens, never the extension at activation.
  ...readdirSync('webview', { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`webview/${d.name}/main.ts`))
    .map((d) => ({ in: `webview/${d.name}/main.ts`, out: `webview/${d.name}`, platform: 'browser' })),
].filter((e) => existsSync(e.in));

await Promise.all(entries.map((e) => build({
  entryPoints: { [e.out]: e.in },
  outdir: 'dist',
  bundle: true,
  platform: e.platform,
  format: e.platform === 'node' ? 'cjs' : 'iife',
  target: e.platform === 'node' ? 'node20' : 'es2022',
  external: e.external ?? [],
  minify: production,
  sourcemap: !production,
  logLevel: 'warning',
})));
