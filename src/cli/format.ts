// Output helpers for the CLI.
import { terminalText } from '../core/format.js';

export { count, formatBytes, terminalText } from '../core/format.js';

/** Lines for a terminal, each made safe on its own, so nothing in one can pass for another. */
export function terminalLines(lines: readonly string[]): string {
  return lines.map((line) => `${terminalText(line)}\n`).join('');
}

/** Writes a JSON document on its own line (what `--json` prints). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
