// Untrusted text printed to a terminal: escape sequences dropped, other controls shown as `?`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminalText } from '../../src/core/format.js';

const cases = [
  { name: 'plain names pass unchanged', input: 'ghcr.io/org/app:v1.2_3-rc', want: 'ghcr.io/org/app:v1.2_3-rc' },
  { name: 'colours (CSI) are dropped', input: '\u001b[31mred\u001b[0m', want: 'red' },
  { name: 'clearing the screen is dropped', input: '\u001b[2J\u001b[Hname', want: 'name' },
  { name: 'hyperlinks (OSC) are dropped, their text kept', input: '\u001b]8;;http://evil.example\u0007v1\u001b]8;;\u001b\\', want: 'v1' },
  { name: 'the C1 form of CSI is dropped', input: '\u009b31mc1', want: 'c1' },
  { name: 'line breaks cannot fake another line', input: 'a\nb\rc', want: 'a?b?c' },
  { name: 'a lone ESC and DEL show as ?', input: 'x\u001b\u007f', want: 'x??' },
  { name: 'bidirectional overrides show as ?', input: '\u202eabc\u2066', want: '?abc?' },
  { name: 'other Unicode stays', input: 'café/ünïcode', want: 'café/ünïcode' },
];

describe('terminalText', () => {
  for (const c of cases) it(c.name, () => assert.equal(terminalText(c.input), c.want));
});
