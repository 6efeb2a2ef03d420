// Command lines typed in Optimize for Startup...: sh's quoting or a JSON array, and back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine, shellLine } from '../../../src/extension/commandLine.js';

describe('command lines', () => {
  it('splits words as sh does, quotes and escapes included', () => {
    const cases: Array<[string, string[]]> = [
      ['/bin/sh -c \'cat /etc/os-release\'', ['/bin/sh', '-c', 'cat /etc/os-release']],
      ['  python3   -m http.server  ', ['python3', '-m', 'http.server']],
      ['echo "a \\"b\\" \\\\ \\n $HOME"', ['echo', 'a "b" \\ \\n $HOME']],
      ['echo a\\ b \'\' ""', ['echo', 'a b', '', '']],
      ['pre\'fix\'"ed"', ['prefixed']],
      ['sh -c "echo \'single\'"', ['sh', '-c', 'echo \'single\'']],
    ];
    for (const [text, words] of cases) assert.deepEqual(parseCommandLine(text), words, text);
  });

  it('takes a JSON array as a Dockerfile\'s exec form writes it', () => {
    assert.deepEqual(parseCommandLine('["/app/start.sh", "--port", "8080"]'), ['/app/start.sh', '--port', '8080']);
  });

  it('says what is wrong with a line it cannot split', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /Enter a command/],
      ['   ', /Enter a command/],
      ['sh -c \'unclosed', /single quote is not closed/],
      ['echo "unclosed', /double quote is not closed/],
      ['echo \\', /ends with a backslash/],
      ['["sh", 1]', /non-empty array of strings/],
      ['[]', /non-empty array of strings/],
      ['[sh]', /Not a JSON array/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseCommandLine(text), message, text);
  });

  it('writes words back so that they split into the same words', () => {
    const lines = [['/bin/sh', '-c', 'cat /etc/os-release'], ['echo', 'it\'s', '', 'a"b', 'x\\y'], ['/app/start.sh']];
    for (const words of lines) assert.deepEqual(parseCommandLine(shellLine(words)), words);
    assert.equal(shellLine(['/bin/sh', '-c', 'cat /etc/os-release']), '/bin/sh -c \'cat /etc/os-release\'');
  });
});
