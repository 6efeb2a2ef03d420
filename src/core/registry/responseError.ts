// Turns an unsuccessful registry response into one RegistryError that says what failed and why.
import { RegistryError, classifyStatus, type RegistryDiagnostic } from '../errors.js';
import { readPrefix } from './body.js';
import { redactUrl } from './redact.js';
import { header, type HttpResponse } from './transport.js';

/** Error bodies are read up to this size; the rest is discarded. */
const MAX_ERROR_BODY = 64 * 1024;

/** Why a 401 came back although we had authenticated (the registry's own text just says 401). */
const REFUSED: Record<NonNullable<HttpResponse['refused']>, string> = {
  anonymous: 'anonymous access is not allowed; log in first',
  credentials: 'the credentials were rejected or do not grant access (wrong username or password?)',
};

export async function responseError(res: HttpResponse, method: string, action: string, ref: string): Promise<RegistryError> {
  const text = await readPrefix(res, MAX_ERROR_BODY);
  const diagnostics = parseDiagnostics(text);
  const { code, temporary } = classifyStatus(res.status, diagnostics);
  const reason = res.status === 401 && res.refused
    ? REFUSED[res.refused]
    : diagnostics.length > 0
      ? diagnostics.map((d) => `${d.code.toLowerCase()}: ${d.message}`).join('; ')
      : describeStatus(res.status, text);
  const challenge = res.status === 401 ? header(res, 'www-authenticate') : undefined;
  return new RegistryError(code, `${action}: ${reason}`, {
    ref,
    status: res.status,
    method,
    url: redactUrl(res.url),
    diagnostics,
    temporary,
    ...(challenge ? { challenge } : {}),
  });
}

/** The `errors[]` of a distribution-spec error body; anything else yields none. */
export function parseDiagnostics(text: string): RegistryDiagnostic[] {
  try {
    const doc = JSON.parse(text) as { errors?: unknown };
    if (!Array.isArray(doc.errors)) return [];
    return doc.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string')
      .map((e) => ({ code: String(e.code), message: typeof e.message === 'string' ? e.message : '', ...(e.detail !== undefined ? { detail: e.detail } : {}) }));
  } catch {
    return [];
  }
}

function describeStatus(status: number, text: string): string {
  const known: Record<number, string> = {
    400: 'bad request', 401: 'authentication required', 403: 'access denied', 404: 'not found',
    405: 'not supported by this registry', 429: 'too many requests (rate limited)', 500: 'registry internal error',
    502: 'bad gateway', 503: 'registry unavailable', 504: 'gateway timeout',
  };
  const snippet = text.trim().replace(/\s+/g, ' ').slice(0, 120);
  const base = known[status] ?? 'unexpected response';
  return `${base} (HTTP ${status})${snippet && !snippet.startsWith('<') ? `: ${snippet}` : ''}`;
}
