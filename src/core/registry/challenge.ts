// `WWW-Authenticate` parsing (RFC 7235 §4.1): several challenges, quoted strings with escapes
// and commas, parameters in any order, token68 credentials.

export interface Challenge {
  /** Lowercased, e.g. `bearer`, `basic`. */
  scheme: string;
  /** Parameter names lowercased; values unquoted. */
  params: Record<string, string>;
  token68?: string;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

export function parseChallenges(header: string): Challenge[] {
  const s = header;
  let i = 0;
  const skip = (re: RegExp): void => {
    while (i < s.length && re.test(s.charAt(i))) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < s.length && TOKEN_CHAR.test(s.charAt(i))) i++;
    return s.slice(start, i);
  };
  const quoted = (): string => {
    let out = '';
    i++; // opening quote
    while (i < s.length && s.charAt(i) !== '"') {
      if (s.charAt(i) === '\\' && i + 1 < s.length) i++;
      out += s.charAt(i++);
    }
    i++; // closing quote (or past the end of a truncated header)
    return out;
  };

  const challenges: Challenge[] = [];
  while (i < s.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (!scheme) {
      i++; // not a token: skip the stray character
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skip(/[ \t]/);
    // token68 (`Basic dXNlcg==`): the rest of the challenge is one blob, not name=value pairs.
    const segment = /^[^,]*/.exec(s.slice(i))?.[0] ?? '';
    if (TOKEN68.test(segment.trim())) {
      challenge.token68 = segment.trim();
      i += segment.length;
      continue;
    }
    for (;;) {
      const save = i;
      skip(/[\s,]/);
      const name = token();
      skip(/[ \t]/);
      if (!name || s.charAt(i) !== '=') {
        i = save; // the next challenge's scheme, or the end
        break;
      }
      i++;
      skip(/[ \t]/);
      challenge.params[name.toLowerCase()] = s.charAt(i) === '"' ? quoted() : token();
    }
    if (i === s.length) break;
  }
  return challenges;
}
