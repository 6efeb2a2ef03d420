// The startup profile of an Optimize for Startup... run as Markdown: how the workload ran, then
// every file it read in order of first access, with the layer that provides it and its size. The
// paths and the output come from the image: shown as code, never as Markdown. No vscode.
import { count, formatBytes, terminalText } from '../../core/format.js';
import type { StartupProfile } from '../../core/optimize/index.js';
import { shellLine } from '../commandLine.js';

/** The workload's output shown: its last lines. */
const OUTPUT_LINES = 20;

const HOW: Record<StartupProfile['files'][number]['how'], string> = { open: 'opened', exec: 'executed', interpreter: 'loaded by the kernel' };

export interface StartupRun {
  /** `shell:v1`, for the heading. */
  name: string;
  source: string;
  destination: string;
  profile: StartupProfile;
  output: string;
}

export function renderStartupReport({ name, source, destination, profile, output }: StartupRun): string {
  const { run, files, image } = profile;
  const bytes = files.reduce((total, f) => total + f.size, 0);
  const ended = run.stopped ? `was stopped when its ${run.periodSeconds} s period ran out` : `exited with ${run.exitCode ?? 'a signal'} after ${run.seconds.toFixed(1)} s`;
  const printed = output ? output.replace(/\n$/, '').split('\n') : [];
  const tail = printed.slice(-OUTPUT_LINES).map(terminalText);
  const lines = [
    `# Startup profile of ${code(name)}`,
    '',
    `Recorded from ${code(source)}; the optimized image is ${code(destination)}.`,
    '',
    `- Command: ${code(shellLine(run.args))}, as user ${code(run.user)} in ${code(run.cwd)}, ${run.network ? 'with the host\'s network' : 'with no network'}`,
    `- The workload ${ended}.`,
    `- ${count(files.length, 'file')} of the image read (${formatBytes(bytes)}), in this order. Each now comes first in its layer of the optimized image, before \`.prefetch.landmark\`, so the snapshotter fetches them before the container starts.`,
    '',
    '| # | path | layer | size | how |',
    '|---:|---|---:|---:|---|',
    ...files.map((f, i) => `| ${i + 1} | ${code(`/${f.path}`)} | ${f.layer}/${image.layers.length} | ${formatBytes(f.size)} | ${HOW[f.how]} |`),
    '',
    `## Output${printed.length > OUTPUT_LINES ? ` (last ${OUTPUT_LINES} lines)` : ''}`,
    '',
    ...(tail.length ? fenced(tail.join('\n')) : ['None.']),
  ];
  return `${lines.join('\n')}\n`;
}

/** A code span that no backtick or pipe in `text` can end or split (a table cell). */
function code(text: string): string {
  const fence = '`'.repeat(longestRun(text) + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text.replace(/\|/g, '\\|')}${pad}${fence}`;
}

function fenced(text: string): string[] {
  const fence = '`'.repeat(Math.max(3, longestRun(text) + 1));
  return [`${fence}text`, text, fence];
}

function longestRun(text: string): number {
  return Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
}
