// The page around a report's bundle: a strict Content Security Policy that runs only the bundle
// (by its nonce) and loads styles and fonts only from the extension's own webview folder. The
// data never goes into this page: it arrives later by postMessage and is rendered as text.
import { randomBytes } from 'node:crypto';

export interface PageParts {
  /** `webview.cspSource`. */
  cspSource: string;
  /** The bundle's script and stylesheet, as webview URIs. */
  script: string;
  style: string;
  title: string;
}

export function reportPage({ cspSource, script, style, title }: PageParts): string {
  const nonce = randomBytes(18).toString('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attribute(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attribute(style)}">
<title>${text(title)}</title>
</head>
<body>
<main id="report" aria-live="polite"></main>
<script nonce="${nonce}" src="${attribute(script)}"></script>
</body>
</html>
`;
}

function text(value: string): string {
  return value.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

function attribute(value: string): string {
  return text(value).replace(/"/g, '&quot;');
}
