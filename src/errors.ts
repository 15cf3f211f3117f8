// One error type for every layer: the API turns it into {"error": {code, message, details}} with its
// HTTP status, the CLI prints its message, the ABI maps it to a negative code.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'AGENT_NOT_FOUND'
  | 'CONFLICT'
  | 'TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'READ_ONLY'
  | 'INVALID_MODULE'
  | 'INTERNAL'
  // Outcomes of an MCP tool call (tools.md), delivered to the agent in a `failure`.
  | 'TIMEOUT'
  | 'SERVER_EXITED'
  | 'UNKNOWN_TOOL'
  | 'TOOL_ERROR'
  | 'QUOTA_EXCEEDED';

const STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  INVALID_MODULE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  READ_ONLY: 503,
  INTERNAL: 500,
  TIMEOUT: 504,
  SERVER_EXITED: 502,
  UNKNOWN_TOOL: 404,
  TOOL_ERROR: 502,
  QUOTA_EXCEEDED: 429,
};

export class CaxtonError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'CaxtonError';
    this.code = code;
    this.status = STATUS[code];
    this.details = details;
  }

  toJSON(): { error: { code: string; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/** Bad input: `field` names what was wrong so the caller can fix it without guessing. */
export function invalidArgument(field: string, message: string): CaxtonError {
  return new CaxtonError('INVALID_ARGUMENT', message.startsWith(field) ? message : `${field}: ${message}`, { field });
}

/**
 * The text of anything thrown, for a log line or an error message; never throws itself. What code outside
 * Caxton throws may be any value: `String()` of an object whose `toString` is not a function throws a
 * TypeError, which would escape the very handler that was reporting the first error.
 */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error && typeof error.message === 'string') return error.message;
    return String(error);
  } catch {
    try {
      return Object.prototype.toString.call(error);
    } catch {
      return 'an unprintable value';
    }
  }
}
