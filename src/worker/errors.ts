// Core errors as JSON-RPC errors: a protocol code, the message, and `data` the client branches on.
import { ResponseError } from 'vscode-jsonrpc/node';
import { LazyImageError, RegistryError, describeError } from '../core/errors.js';
import type { WrittenContent } from '../core/oci/index.js';
import { ErrorCodes, type ErrorData } from './protocol.js';

/** `written`: what an operation stored in its destination before it failed (since 1.7). */
export function toResponseError(e: unknown, written?: WrittenContent[]): ResponseError<ErrorData | undefined> {
  if (e instanceof ResponseError) return e as ResponseError<ErrorData | undefined>;
  if (!(e instanceof LazyImageError)) return new ResponseError(ErrorCodes.InternalError, `Internal error: ${describeError(e)}`, undefined);
  const data: ErrorData = { code: e.code, temporary: e.temporary, ...(e.ref ? { ref: e.ref } : {}), ...(written ? { written } : {}) };
  if (e instanceof RegistryError) {
    if (e.status !== undefined) data.status = e.status;
    if (e.challenge) data.challenge = e.challenge;
  }
  const message = describeError(e);
  switch (e.code) {
    case 'CANCELLED':
      return new ResponseError(ErrorCodes.RequestCancelled, 'Request cancelled', data);
    case 'UNAUTHORIZED':
    case 'DENIED':
      return new ResponseError(ErrorCodes.AuthenticationRequired, message, { ...data, ...(e.ref ? { registry: e.ref.split('/')[0] } : {}) });
    case 'UNREACHABLE':
    case 'TLS':
    case 'TIMEOUT':
    case 'RATE_LIMITED':
    case 'REGISTRY':
      return new ResponseError(ErrorCodes.RegistryError, message, data);
    case 'INTERNAL':
    case 'IO':
      return new ResponseError(ErrorCodes.InternalError, message, data);
    default:
      // A reference, an image or a blob that is wrong or missing: what the request asked for.
      return new ResponseError(e instanceof RegistryError && e.code !== 'NOT_FOUND' ? ErrorCodes.RegistryError : ErrorCodes.InvalidInput, message, data);
  }
}
