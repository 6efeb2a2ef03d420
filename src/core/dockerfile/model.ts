// A Dockerfile as the rules see it: stages of instructions with exact ranges, flags and the
// comment lines that belong to each instruction. Parsing is dockerfile-ast's; this is a thin,
// plain-data view of its result.
import { DockerfileParser, ModifiableInstruction, type Instruction } from 'dockerfile-ast';

export interface Position {
  /** Zero-based. */
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface DockerInstruction {
  /** Upper case: RUN, COPY, FROM... */
  keyword: string;
  /** The arguments as written, continuation lines joined (escaped newlines removed). */
  args: string;
  /** The instruction's own lines. */
  range: Range;
  /** First line of the comments directly above it (its `range.start.line` when none). */
  firstLine: number;
  /** `--from`, `--mount`, `--chown`...: name to values (a flag may repeat). */
  flags: Record<string, string[]>;
  /** Arguments after the flags, split as the builder would (JSON form included). */
  words: string[];
  /** RUN, CMD and ENTRYPOINT in JSON (exec) form. */
  jsonForm: boolean;
  /** A RUN with a heredoc body (`RUN <<EOF`). */
  heredoc: boolean;
}

export interface Stage {
  index: number;
  /** `AS name`, lower case. */
  name?: string;
  /** The FROM image, as written. */
  image: string;
  from: DockerInstruction;
  instructions: DockerInstruction[];
  final: boolean;
  /**
   * What it leaves behind ships: the final stage and the stages it is built FROM (transitively),
   * and stages nothing refers to (other build targets).
   */
  ships: boolean;
}

export interface DockerfileModel {
  text: string;
  lines: string[];
  stages: Stage[];
}

const LAYER_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);

export function createsLayer(i: DockerInstruction): boolean {
  return LAYER_KEYWORDS.has(i.keyword);
}

export function parseDockerfile(text: string): DockerfileModel {
  const parsed = DockerfileParser.parse(text);
  const lines = text.split(/\r?\n/);
  const commentLines = new Set(parsed.getComments().map((c) => c.getRange().start.line));
  const stages: Stage[] = [];
  for (const instruction of parsed.getInstructions()) {
    const model = toModel(instruction, lines, commentLines);
    if (model.keyword === 'FROM') {
      const image = model.words[0] ?? '';
      const asIndex = model.words.findIndex((w) => w.toLowerCase() === 'as');
      const name = asIndex >= 0 ? model.words[asIndex + 1]?.toLowerCase() : undefined;
      stages.push({ index: stages.length, ...(name ? { name } : {}), image, from: model, instructions: [], final: false, ships: false });
    } else {
      stages.at(-1)?.instructions.push(model);
    }
  }
  const last = stages.at(-1);
  if (last) last.final = true;
  markShipping(stages);
  return { text, lines, stages };
}

/** Which stage a FROM, `COPY --from` or `--mount from=` names, by name or index. */
function stageNamed(stages: Stage[], name: string): Stage | undefined {
  const n = name.toLowerCase();
  return stages.find((s) => s.name === n || String(s.index) === n);
}

/** The earlier stage a stage is built FROM, if it is built from one. */
export function parentStage(stages: Stage[], stage: Stage): Stage | undefined {
  const parent = stageNamed(stages, stage.image);
  return parent && parent.index < stage.index ? parent : undefined;
}

function markShipping(stages: Stage[]): void {
  const referenced = new Set<Stage>();
  /** A name with a variable (`base-${TARGETARCH}`) may mean any stage it can expand to. */
  const refer = (name: string, before: number): void => {
    if (!name.includes('$')) {
      const used = stageNamed(stages, name);
      if (used && used.index < before) referenced.add(used);
      return;
    }
    const pattern = new RegExp(`^${name.toLowerCase().split(/\$\{?\w+\}?/).map((p) => p.replace(/[.*+?^()|[\]\\{}]/g, '\\$&')).join('.*')}$`);
    for (const s of stages) if (s.name && s.index < before && pattern.test(s.name)) referenced.add(s);
  };
  for (const stage of stages) {
    refer(stage.image, stage.index);
    for (const ins of stage.instructions) {
      const names = [...(ins.flags.from ?? []), ...(ins.flags.mount ?? []).map((m) => /(?:^|,)from=([^,]+)/.exec(m)?.[1] ?? '')];
      for (const name of names) if (name) refer(name, stage.index + 1);
    }
  }
  for (const stage of stages) stage.ships = !referenced.has(stage);
  // The final stage's FROM chain ships with it.
  for (let s = stages.at(-1); s; s = parentStage(stages, s)) s.ships = true;
}

function toModel(instruction: Instruction, lines: string[], commentLines: Set<number>): DockerInstruction {
  const range = instruction.getRange();
  const keyword = instruction.getKeyword().toUpperCase();
  const flags: Record<string, string[]> = {};
  const raw = instruction.getArguments().map((a) => a.getValue());
  let i = 0;
  if (instruction instanceof ModifiableInstruction) {
    // COPY, ADD, RUN: the parser keeps flags out of the arguments.
    for (const flag of instruction.getFlags()) (flags[flag.getName().toLowerCase()] ??= []).push(flag.getValue() ?? '');
  } else {
    for (; i < raw.length && raw[i]?.startsWith('--'); i++) {
      const [name, ...value] = (raw[i] as string).slice(2).split('=');
      (flags[(name ?? '').toLowerCase()] ??= []).push(value.join('='));
    }
  }
  // Comment lines inside continuation lines are not part of the command; escaped newlines join.
  const argsText = (instruction.getRawArgumentsContent() ?? '')
    .split('\n').filter((l) => !/^\s*#/.test(l)).join('\n')
    .replace(/\\\r?\n/g, ' ').trim();
  const jsonForm = /^\s*\[/.test(argsText.replace(/^(\s*--\S+\s+)+/, ''));
  let words = raw.slice(i);
  if (jsonForm) {
    try {
      words = JSON.parse(argsText.replace(/^(\s*--\S+\s+)+/, '')) as string[];
    } catch {
      // Not valid JSON after all: the shell form's words stand.
    }
  }
  let firstLine = range.start.line;
  while (firstLine > 0 && commentLines.has(firstLine - 1)) firstLine--;
  return {
    keyword,
    args: argsText,
    range: { start: { ...range.start }, end: { ...range.end } },
    firstLine,
    flags,
    words,
    jsonForm,
    heredoc: /<<-?\s*["']?[A-Za-z_]/.test(lines[range.start.line] ?? ''),
  };
}
