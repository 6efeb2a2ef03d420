// `npm run bench:activation`: size of the extension bundle and the time Node takes to load it
// (what VS Code pays before activate() runs), beside the CLI bundle for scale. activate() itself is
// timed by the extension and written to its log ("activated in N ms"); the e2e tests print it.
// With BENCH_BASELINE, another build's extension bundle is loaded in turns with ours. Then the
// report webviews' bundles, which only a report's page loads, never the extension host.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const DIST = resolve(__dirname, '..', '..', '..', 'dist');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);

/** Loads a bundle in a fresh Node, with a stand-in `vscode` module, and reports the ms it took. */
const LOADER = `
const Module = require('module');
const load = Module._load;
Module._load = function (request, ...rest) {
  // Only what the bundle touches while loading; everything else runs in activate().
  if (request === 'vscode') return { TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 }, CodeActionKind: { QuickFix: {} } };
  return load.call(this, request, ...rest);
};
const start = process.hrtime.bigint();
require(process.argv[1]);
process.stdout.write(String(Number(process.hrtime.bigint() - start) / 1e6));
`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Another build's extension bundle (BENCH_BASELINE=path), loaded in turns with ours so both see the same machine. */
const BASELINE = process.env.BENCH_BASELINE;
const bundles = [
  ...(BASELINE ? [{ name: `baseline ${BASELINE}`, path: resolve(BASELINE) }] : []),
  { name: 'extension.js', path: join(DIST, 'extension.js') },
  { name: 'cli.js', path: join(DIST, 'cli.js') },
];
const times = bundles.map(() => [] as number[]);
for (let run = 0; run < RUNS; run++) {
  bundles.forEach(({ path }, i) => times[i]!.push(Number(execFileSync(process.execPath, ['-e', LOADER, path], { encoding: 'utf8' }))));
}
bundles.forEach(({ name, path }, i) => {
  const bytes = readFileSync(path);
  const t = times[i]!;
  const minified = !bytes.toString('utf8', 0, 2000).includes('\n//');
  console.log(`${name}: ${(statSync(path).size / 1024).toFixed(1)} KiB (${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzipped${minified ? '' : ', not minified: run npm run package first'}), load median ${median(t).toFixed(1)} ms over ${RUNS} runs (min ${Math.min(...t).toFixed(1)}, max ${Math.max(...t).toFixed(1)})`);
});

const WEBVIEW = join(DIST, 'webview');
for (const name of readdirSync(WEBVIEW).filter((n) => /\.(js|css)$/.test(n)).sort()) {
  const bytes = readFileSync(join(WEBVIEW, name));
  console.log(`webview/${name}: ${(bytes.length / 1024).toFixed(1)} KiB (${(gzipSync(bytes).length / 1024).toFixed(1)} KiB gzipped)`);
}
// The components register custom elements: their code in the extension's bundle would mean the host loads it.
const host = readFileSync(join(DIST, 'extension.js'), 'utf8');
console.log(`webview code in extension.js: ${/customElements\.define|uPlot/.test(host) ? 'FOUND (a webview module is imported by the extension)' : 'none'}`);
