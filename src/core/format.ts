// Text for people: shared by the CLI and the extension.

/** `12.0 MiB`, `1.50 KiB`, `215 B` (binary units, as registries and docker report sizes). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** `1 layer`, `3 layers`, `2 entries` (with `many` for irregular plurals). */
export function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** `application/vnd.oci.image.layer.v1.tar+gzip` -> `tar+gzip`. */
export function shortMediaType(mediaType: string): string {
  return /\.(tar[^.]*)$/.exec(mediaType)?.[1] ?? mediaType;
}

/**
 * ANSI escape sequences: CSI (`ESC [` parameters, final byte), OSC (`ESC ]` up to BEL or ST) and
 * the two-byte ones, in their 7-bit and C1 forms.
 */
const ESCAPE_SEQUENCES = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[@-Z\\-_]/g;
/** What else moves the cursor or reorders what is shown: control characters, bidirectional overrides. */
const UNSAFE_CHARACTERS = /[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * Untrusted text (names and annotations from registries and layers, server messages) made fit
 * for a terminal: escape sequences dropped, other control characters (line breaks included) shown
 * as `?`, so it can neither restyle the terminal nor pass for other lines.
 */
export function terminalText(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(UNSAFE_CHARACTERS, '?');
}
