// Output helpers for the CLI.
export { count, formatBytes } from '../core/format.js';

/** Writes a JSON document on its own line (what `--json` prints). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
