// An error the CLI reports as one line on stderr, with the exit code scripts can test:
// 1 when the command failed, 2 when it was called wrongly (the same code commander uses for usage).
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** An error the server answered with, in its `{"error": {code, message}}` shape. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly apiMessage: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(`${code}: ${apiMessage}`);
    this.name = 'ApiError';
  }
}

/** No answer at all: nothing listening, or the connection broke. A script waiting for a node retries these only. */
export class UnreachableError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}
