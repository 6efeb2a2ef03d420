// `npm run bench:dockerfile`: time to compute the Dockerfile findings (what the lenses, diagnostics
// and quick fixes are made of) for 300-line Dockerfiles, beside parsing alone with dockerfile-ast,
// the floor any analysis on that parser pays.
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { analyzeDockerfile } from '../../src/core/dockerfile/index.js';

const CORPUS = process.env.LAZYIMG_CORPUS ?? resolve(__dirname, '..', '..', '..', '..', 'shared', 'corpus', 'dockerfiles');
const RUNS = Number(process.env.BENCH_RUNS ?? 200);

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function stats(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return `median ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms, max ${at(1).toFixed(2)} ms`;
}

const files = readdirSync(CORPUS).filter((f) => f !== 'SOURCES.md').map((f) => ({ name: f, text: readFileSync(join(CORPUS, f), 'utf8') }));
// The real file closest to 300 lines, and 300 lines made of real files end to end.
const byLength = [...files].sort((a, b) => Math.abs(a.text.split('\n').length - 300) - Math.abs(b.text.split('\n').length - 300));
const closest = byLength[0] as { name: string; text: string };
let joined = '';
for (const f of files) {
  if (joined.split('\n').length >= 300) break;
  joined += `${f.text}\n`;
}
const inputs = [
  { label: `${closest.name} (${closest.text.split('\n').length} lines)`, text: closest.text },
  { label: `corpus files joined (${joined.split('\n').length} lines, ${joined.match(/^FROM /gim)?.length ?? 0} stages)`, text: joined },
];

console.log(`Dockerfile analysis, ${RUNS} runs each after one cold run; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log('| input | step | cold (ms) | warm |');
console.log('|---|---|---:|---|');
for (const { label, text } of inputs) {
  for (const [step, fn] of [['dockerfile-ast parse only', () => DockerfileParser.parse(text)], ['lazyimg analysis (parse + all rules)', () => analyzeDockerfile(text)]] as const) {
    const cold = time(fn);
    const warm = Array.from({ length: RUNS }, () => time(fn));
    console.log(`| ${label} | ${step} | ${cold.toFixed(2)} | ${stats(warm)} |`);
  }
}
