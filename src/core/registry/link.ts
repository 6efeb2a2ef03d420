// `Link` header parsing (RFC 8288) and the next-page rule for registry listings.
import { LazyImageError } from '../errors.js';

export interface Link {
  target: string;
  rel: string[];
  params: Record<string, string>;
}

export function parseLinkHeader(header: string): Link[] {
  const links: Link[] = [];
  const re = /<([^>]*)>((?:\s*;\s*[^;,=\s]+\s*(?:=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)/g;
  for (const m of header.matchAll(re)) {
    const params: Record<string, string> = {};
    for (const p of (m[2] ?? '').matchAll(/;\s*([^;,=\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?/g)) {
      const name = (p[1] ?? '').toLowerCase();
      const raw = p[2] ?? '';
      if (!(name in params)) params[name] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    }
    links.push({ target: m[1] ?? '', rel: (params.rel ?? '').toLowerCase().split(/\s+/).filter(Boolean), params });
  }
  return links;
}

/**
 * The URL of the next page, resolved against the current one, or undefined at the end.
 * A next page on another host or scheme is refused: following it would send our requests (and
 * maybe credentials) wherever a registry response points.
 */
export function nextPageUrl(header: string | undefined, current: URL, ref: string): URL | undefined {
  if (!header) return undefined;
  const next = parseLinkHeader(header).find((l) => l.rel.includes('next'));
  if (!next) return undefined;
  let url: URL;
  try {
    url = new URL(next.target, current);
  } catch {
    throw new LazyImageError('REGISTRY', `Cannot list ${ref}: the registry sent an invalid next-page link "${next.target}"`, { ref });
  }
  if (url.origin !== current.origin) {
    throw new LazyImageError('REGISTRY', `Cannot list ${ref}: the registry's next-page link points to another host (${url.origin}), refused`, { ref });
  }
  return url;
}
