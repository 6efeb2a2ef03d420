// Command lines as people type and read them: words with sh's quoting (`sh -c 'cat /etc/os-release'`)
// or a JSON array, as a Dockerfile's exec form writes them. No variables, globs or operators: the
// words go to the container's runtime as they are, with no shell in between.

/** The words as a POSIX shell would need them typed: quoted only where a character asks for it. */
export function shellLine(words: readonly string[]): string {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The words of `text`; throws an Error that says what is wrong (for an input box's message). */
export function parseCommandLine(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) return jsonWords(trimmed);
  const words: string[] = [];
  let word: string | undefined; // undefined between words; '' is a word once a quote opened it
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '\'') {
      const end = trimmed.indexOf('\'', i + 1);
      if (end < 0) throw new Error('A single quote is not closed');
      word = (word ?? '') + trimmed.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let inner = '';
      for (i++; i < trimmed.length && trimmed[i] !== '"'; i++) {
        // Inside double quotes a backslash escapes only these, as in sh.
        if (trimmed[i] === '\\' && i + 1 < trimmed.length && '"\\$`'.includes(trimmed[i + 1]!)) i++;
        inner += trimmed[i];
      }
      if (i >= trimmed.length) throw new Error('A double quote is not closed');
      word = (word ?? '') + inner;
    } else if (c === '\\') {
      if (i + 1 >= trimmed.length) throw new Error('The line ends with a backslash');
      word = (word ?? '') + trimmed[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  if (words.length === 0) throw new Error('Enter a command');
  return words;
}

function jsonWords(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`Not a JSON array: ${(e as Error).message}`);
  }
  if (!Array.isArray(value) || value.length === 0 || !value.every((w) => typeof w === 'string')) throw new Error('A JSON command is a non-empty array of strings');
  return value as string[];
}
