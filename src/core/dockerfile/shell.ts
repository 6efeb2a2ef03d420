// Just enough shell to read RUN lines: split a command line into simple commands, and find words.
import type { DockerInstruction } from './model.js';

/** The shell command of a RUN (exec form joined with spaces); empty for heredocs. */
export function runCommand(ins: DockerInstruction): string {
  if (ins.keyword !== 'RUN' || ins.heredoc) return '';
  return ins.jsonForm ? ins.words.join(' ') : ins.args;
}

/** Simple commands separated by `&&`, `||`, `;`, `|` (quotes are not split). */
export function simpleCommands(command: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command.charAt(i);
    if (quote) {
      if (c === quote) quote = undefined;
      current += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      current += c;
      continue;
    }
    const two = command.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      parts.push(current);
      current = '';
      i++;
      continue;
    }
    if (c === ';' || c === '|' || c === '\n') {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

const PREFIXES = new Set(['sudo', 'env', 'then', 'do', 'else', 'elif', '{', '(', '!', 'exec', 'time']);

/** The command's words, without what only leads up to the command: `sudo`, `env X=y`, `then`, `do`. */
export function words(command: string): string[] {
  const w = command.split(/\s+/).filter(Boolean);
  while (w.length && (PREFIXES.has(w[0] as string) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0] as string))) w.shift();
  return w;
}

/** The first word after the program that is not an option (`apt-get -qq update` -> `update`). */
export function subcommand(w: string[]): string | undefined {
  for (let i = 1; i < w.length; i++) {
    const x = w[i] as string;
    if (x === '-o' || x === '-c' || x === '-t') i++; // options that take a value
    else if (!x.startsWith('-')) return x;
  }
  return undefined;
}

/** `--mount=type=cache,target=/x` flags of a RUN, as key=value maps. */
export function mounts(ins: DockerInstruction): Array<Record<string, string>> {
  return (ins.flags.mount ?? []).map((m) => Object.fromEntries(m.split(',').map((kv) => {
    const [k, ...v] = kv.split('=');
    return [k ?? '', v.join('=')];
  })));
}

export function hasCacheMount(ins: DockerInstruction, pathPart: string): boolean {
  return mounts(ins).some((m) => (m.type === 'cache' || m.type === 'tmpfs') && (m.target ?? m.dst ?? m.destination ?? '').includes(pathPart));
}
