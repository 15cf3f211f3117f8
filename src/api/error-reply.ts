// Turns whatever a request raised (our CaxtonError, Fastify's parser errors, plugin errors) into the one
// error shape of interfaces.md, so a client never has to parse two formats.
import type { FastifyReply } from 'fastify';
import { CaxtonError } from '../errors.ts';

export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export interface ApiErrorReply {
  status: number;
  body: ApiErrorBody;
  /** Our own errors or the client's: an unexpected one (5xx) is logged with its stack, the rest are not. */
  expected: boolean;
}

interface ErrorLike {
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  name?: unknown;
}

function reply(status: number, code: string, message: string, details?: Record<string, unknown>): ApiErrorReply {
  return { status, body: { error: { code, message, ...(details ? { details } : {}) } }, expected: status < 500 };
}

/** Codes of the framework and its plugins that are the client's fault, mapped onto ours. */
function fromFrameworkCode(code: string, message: string): ApiErrorReply | null {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return reply(400, 'INVALID_ARGUMENT', 'body: malformed JSON; send one JSON object', { field: 'body' });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return reply(400, 'INVALID_ARGUMENT', 'body: empty, but content-type is application/json', { field: 'body' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return reply(415, 'INVALID_ARGUMENT', 'body: unsupported content type; send application/json', {
        field: 'content-type',
      });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return reply(400, 'INVALID_ARGUMENT', 'body: length does not match content-length', { field: 'body' });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return reply(413, 'TOO_LARGE', `body: too large (${message})`, { field: 'body' });
    case 'FST_ERR_BAD_URL':
      return reply(400, 'INVALID_ARGUMENT', 'path: not a valid URL (a malformed %-escape?)', { field: 'path' });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return reply(414, 'INVALID_ARGUMENT', 'path: a path segment is longer than this API accepts', { field: 'path' });
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_PROTO_VIOLATION':
      return reply(400, 'INVALID_ARGUMENT', `body: ${message}`, { field: 'body' });
    // 406 from the multipart plugin, though nothing about Accept is wrong. A route that knows which part it
    // wanted as JSON names it (agent-upload.ts); this one cannot.
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return reply(400, 'INVALID_ARGUMENT', 'body: a multipart part declared application/json is not valid JSON', { field: 'body' });
    default:
      return null;
  }
}

const CODE_BY_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'INVALID_ARGUMENT',
  406: 'INVALID_ARGUMENT',
  409: 'CONFLICT',
  413: 'TOO_LARGE',
  415: 'INVALID_ARGUMENT',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

export function toApiError(err: unknown): ApiErrorReply {
  if (err instanceof CaxtonError) {
    const body = err.toJSON();
    return { status: err.status, body, expected: err.status < 500 };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (typeof e.code === 'string') {
    const mapped = fromFrameworkCode(e.code, message);
    if (mapped) return mapped;
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return reply(status, CODE_BY_STATUS[status] ?? 'INVALID_ARGUMENT', message);
  return reply(500, 'INTERNAL', 'internal error; see the node log');
}

/**
 * The raw HTTP answer to a request Node's parser refused before Fastify saw it (headers too large, garbage):
 * the same error shape as every other answer, and the connection closed.
 */
export function clientErrorResponse(errorCode: string | undefined): string {
  const [status, reason, code, message] =
    errorCode === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'TOO_LARGE', 'headers: larger than this API accepts']
      : errorCode === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'INVALID_ARGUMENT', 'request: not received in time']
        : [400, 'Bad Request', 'INVALID_ARGUMENT', 'request: not valid HTTP'];
  const body = JSON.stringify({ error: { code, message } });
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/**
 * 503 UNAVAILABLE with `Retry-After: 1`, for a bound of the node that is full (waits, event streams). Sent, not
 * thrown: the error handler logs every 5xx with its stack, and a full node is no fault of the node's.
 */
export function sendUnavailable(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(503).header('retry-after', '1').send(new CaxtonError('UNAVAILABLE', message).toJSON());
}
