// URLs go into errors and logs without secrets: upload state, signed-URL signatures, passwords.

/** Query parameters whose values are safe and useful to show. */
const SAFE_PARAMS = new Set(['n', 'last', 'mount', 'from', 'digest', 'artifacttype', 'service', 'scope']);

export function redactUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  for (const key of [...copy.searchParams.keys()]) {
    if (!SAFE_PARAMS.has(key.toLowerCase())) copy.searchParams.set(key, 'REDACTED');
  }
  return copy.href;
}
