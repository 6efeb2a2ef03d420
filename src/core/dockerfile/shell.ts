// Just enough shell to read RUN lines: split a command line into simple commands, and find words.
import type { DockerInstruction } from './model.js';

/** The shell command of a RUN (exec form joined with spaces); empty for heredocs. */
export function runCommand(ins: DockerInstruction): string {
  if (ins.keyword !== 'RUN' || ins.heredoc) return '';
  return ins.jsonForm ? ins.words.join(' ') : ins.args.replace(/^(\s*--\S+)+\s*/, '');
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

/** The command's words, without leading `sudo`, `env X=y`, `set -x` noise. */
export function words(command: string): string[] {
  const w = command.split(/\s+/).filter(Boolean);
  while (w.length && (w[0] === 'sudo' || w[0] === 'env' || /^[A-Za-z_][A-Za-z0-9_]*=/.test(w[0] as string))) w.shift();
  return w;
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
