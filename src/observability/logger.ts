// Structured logs: one JSON object per line on stdout (what log shippers and `jq` read), every line tagged
// with the node id so that the lines of a cluster can be merged. Nothing is logged per message on the hot path.
import pino from 'pino';
import type { DestinationStream, Logger, LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** The node id, on every line. */
  node: string;
  /** Where lines go; stdout when absent. Tests pass a stream and read what was written. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { node: options.node },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not numbers: readable with grep, and what most log pipelines expect.
      formatters: { level: (label) => ({ level: label }) },
      // Known secret-bearing fields never reach a log line, whoever logs them.
      redact: { paths: ['key', 'apiKey', 'api_key', 'authorization', '*.authorization', 'encrypt', '*.encrypt', 'jwt_secret', '*.jwt_secret'], censor: '<redacted>' },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
