// Test helpers for the Dockerfile rules: build a Dockerfile from lines, apply a fix's text edits the
// way an editor would, and pick findings by rule.
import { analyzeDockerfile, type AnalyzeOptions, type Finding, type TextEdit } from '../../../src/core/dockerfile/index.js';

/** A Dockerfile from its lines, `\n`-separated, with a final newline. */
export function dockerfile(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** Offsets where each line starts (lines end at `\n`; a `\r` before it belongs to its line). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/**
 * The offset of a zero-based line/character position. As in LSP, a character past the end of its
 * line means the line's end, and a line past the last one means the end of the text.
 */
function offsetAt(text: string, starts: number[], position: TextEdit['range']['start']): number {
  if (position.line < 0 || position.character < 0) throw new Error(`negative position ${JSON.stringify(position)}`);
  const start = starts[position.line];
  if (start === undefined) return text.length;
  const next = starts[position.line + 1];
  let end = next === undefined ? text.length : next - 1;
  if (end > start && text.charAt(end - 1) === '\r') end--;
  return Math.min(start + position.character, end);
}

/**
 * Applies text edits given in zero-based line/character positions of the original text. Edits must
 * not overlap (touching is fine); they are applied last first, so earlier positions stay valid. Two
 * insertions at one place keep their order in the array.
 */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const starts = lineStarts(text);
  const spans = edits.map((edit, index) => {
    const start = offsetAt(text, starts, edit.range.start);
    const end = offsetAt(text, starts, edit.range.end);
    if (end < start) throw new Error(`edit ${index} ends before it starts: ${JSON.stringify(edit.range)}`);
    return { start, end, newText: edit.newText, index };
  });
  const ordered = [...spans].sort((a, b) => a.start - b.start || a.end - b.end || a.index - b.index);
  for (let i = 1; i < ordered.length; i++) {
    const before = ordered[i - 1];
    const after = ordered[i];
    if (before && after && before.end > after.start) {
      throw new Error(`edits ${before.index} and ${after.index} overlap: ${JSON.stringify(edits[before.index]?.range)} and ${JSON.stringify(edits[after.index]?.range)}`);
    }
  }
  let result = text;
  for (const span of ordered.reverse()) result = result.slice(0, span.start) + span.newText + result.slice(span.end);
  return result;
}

/** The findings of one rule, in document order. */
export function findingsOf(text: string, ruleId: string, options: AnalyzeOptions = {}): Finding[] {
  return analyzeDockerfile(text, options).findings.filter((f) => f.ruleId === ruleId);
}

/** The text after applying a finding's fix; fails when the finding has none. */
export function applyFix(text: string, finding: Finding): string {
  if (!finding.fix) throw new Error(`${finding.ruleId} at line ${finding.range.start.line + 1} has no fix`);
  return applyEdits(text, finding.fix.edits);
}
