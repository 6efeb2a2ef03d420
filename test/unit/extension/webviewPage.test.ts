// The report page and the messages its webview may send: a policy that runs only the nonced
// bundle, and nothing acted on that is not one of the protocol's shapes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportPage } from '../../../src/extension/webviews/html.js';
import { parseFromWebview } from '../../../src/extension/webviews/protocol.js';

const parts = { cspSource: 'https://file+.vscode-resource.vscode-cdn.net', script: 'https://x/dist/webview/a.js', style: 'https://x/dist/webview/a.css', title: 'v1 <b>"x"</b>' };

describe('reportPage', () => {
  it('allows scripts only by a fresh nonce, and no inline styles', () => {
    const page = reportPage(parts);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(page)?.[1] ?? '';
    assert.match(csp, /^default-src 'none'; script-src 'nonce-[A-Za-z0-9+/]{24}';/);
    assert.doesNotMatch(csp, /unsafe-(inline|eval)/);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.equal([...page.matchAll(/<script\b[^>]*>/g)].length, 1, 'one script element');
    assert.match(page, new RegExp(`<script nonce="${nonce!.replace(/[+/]/g, '\\$&')}" src="https://x/dist/webview/a.js">`));
    assert.notEqual(/'nonce-([^']+)'/.exec(reportPage(parts))?.[1], nonce, 'a nonce is used once');
  });

  it('escapes the title', () => {
    assert.match(reportPage(parts), /<title>v1 &lt;b&gt;"x"&lt;\/b&gt;<\/title>/);
  });
});

describe('parseFromWebview', () => {
  it('admits the protocol shapes', () => {
    assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
    assert.deepEqual(parseFromWebview({ type: 'copy', text: 'sha256:ab' }), { type: 'copy', text: 'sha256:ab' });
    assert.deepEqual(parseFromWebview({ type: 'action', action: 'verify', args: ['a'] }), { type: 'action', action: 'verify', args: ['a'] });
    assert.deepEqual(parseFromWebview({ type: 'action', action: 'verify' }), { type: 'action', action: 'verify', args: [] });
  });

  it('drops anything else', () => {
    for (const bad of [null, 'ready', 7, {}, { type: 'eval' }, { type: 'copy' }, { type: 'copy', text: 'x'.repeat(5000) },
      { type: 'action', action: 3 }, { type: 'action', action: 'a', args: [1] }, { type: 'action', action: 'a', args: 'x' }, { type: 'action', action: 'a', args: Array(9).fill('x') }]) {
      assert.equal(parseFromWebview(bad), undefined, JSON.stringify(bad));
    }
  });
});
