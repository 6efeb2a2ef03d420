// What a rule reports, and the text edits its fixes are made of. Ranges are zero-based lines and
// characters, as editors count; the extension turns them into VS Code ranges.
import type { DockerInstruction, DockerfileModel, Position, Range } from './model.js';

export type RuleGroup = 'cache' | 'size' | 'multistage' | 'lazy';
export type Severity = 'hint' | 'information' | 'warning';

export interface TextEdit {
  range: Range;
  newText: string;
}

export interface Fix {
  title: string;
  edits: TextEdit[];
}

export interface Finding {
  ruleId: string;
  group: RuleGroup;
  severity: Severity;
  /** The line (usually the instruction) the finding is about. */
  range: Range;
  message: string;
  /** Why, in one or two sentences, with where the advice comes from. */
  rationale: string;
  source: string;
  fix?: Fix;
  /** Paths the finding is about, e.g. files to prioritize in eStargz layers. */
  files?: string[];
}

export interface RuleContext {
  model: DockerfileModel;
  /** Whether a file exists in the build context; lets fixes name only files that are there. */
  exists?: (path: string) => boolean;
  /**
   * A small text file of the build context (a manifest, .dockerignore), undefined when it is not
   * there; lets a rule see what an install reads besides the manifests.
   */
  read?: (path: string) => string | undefined;
}

export interface Rule {
  id: string;
  group: RuleGroup;
  check(ctx: RuleContext): Finding[];
}

/** The instruction's own text, exactly as in the document (continuation lines included). */
export function instructionText(model: DockerfileModel, ins: DockerInstruction): string {
  const { start, end } = ins.range;
  const lines = model.lines.slice(start.line, end.line + 1);
  lines[lines.length - 1] = (lines.at(-1) ?? '').slice(0, end.character);
  return lines.join('\n').slice(start.character);
}

/** The document position `offset` characters into the instruction's text. */
export function positionIn(model: DockerfileModel, ins: DockerInstruction, offset: number): Position {
  let line = ins.range.start.line;
  let character = ins.range.start.character;
  let left = offset;
  while (left > 0) {
    const rest = (model.lines[line]?.length ?? 0) - character;
    if (left <= rest) return { line, character: character + left };
    left -= rest + 1;
    line++;
    character = 0;
  }
  return { line, character };
}

/** Whole lines of the instruction and its comments, for moving it with everything that is its own. */
export function blockRange(ins: DockerInstruction): Range {
  return { start: { line: ins.firstLine, character: 0 }, end: { line: ins.range.end.line + 1, character: 0 } };
}

export function blockText(model: DockerfileModel, ins: DockerInstruction): string {
  return `${model.lines.slice(ins.firstLine, ins.range.end.line + 1).join('\n')}\n`;
}

/** Edits that move an instruction (with its comments) to just above `before`'s block. */
export function moveAbove(model: DockerfileModel, moved: DockerInstruction, before: DockerInstruction, prefix = ''): TextEdit[] {
  const at: Position = { line: before.firstLine, character: 0 };
  return [
    { range: { start: at, end: at }, newText: `${prefix}${blockText(model, moved)}` },
    { range: blockRange(moved), newText: '' },
  ];
}

/** Edits that move an instruction (with its comments) to just below `after`. */
export function moveBelow(model: DockerfileModel, moved: DockerInstruction, after: DockerInstruction): TextEdit[] {
  const line = after.range.end.line;
  const end: Position = { line, character: model.lines[line]?.length ?? 0 };
  return [
    { range: { start: end, end }, newText: `\n${blockText(model, moved).replace(/\n$/, '')}` },
    { range: blockRange(moved), newText: '' },
  ];
}

/** The instruction's first line: where its diagnostic and lens sit. */
export function firstLineRange(model: DockerfileModel, ins: DockerInstruction): Range {
  const line = ins.range.start.line;
  return { start: { ...ins.range.start }, end: { line, character: model.lines[line]?.length ?? 0 } };
}
