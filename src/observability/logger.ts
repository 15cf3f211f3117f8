// Structured logs: one JSON object per line on stdout (what log shippers and `jq` read), every line tagged
// with the node id so that the lines of a cluster can be merged; on a terminal, the same lines made readable
// by pino-pretty (time, level, message, then the fields). Nothing is logged per message on the hot path.
import pino from 'pino';
import type { DestinationStream, Logger, LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';

/** `auto`: readable when stdout is a terminal, JSON lines otherwise (a pipe, a file, a log shipper). */
export type LogFormat = 'auto' | 'json' | 'pretty';

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  /** The node id, on every line. */
  node: string;
  /** Where lines go; stdout when absent. Tests pass a stream and read what was written. */
  destination?: DestinationStream;
  /** Default auto. */
  format?: LogFormat;
  /** Whether stdout is a terminal (for `auto`); default process.stdout.isTTY. */
  isTTY?: boolean;
}

/** Whether lines are made readable: `pretty`, or `auto` on a terminal. */
export function prettyLogs(format: LogFormat, isTTY: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTTY);
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
    options.destination ?? destinationFor(options.format ?? 'auto', options.isTTY ?? process.stdout.isTTY === true),
  );
}

function destinationFor(format: LogFormat, isTTY: boolean): DestinationStream {
  if (!prettyLogs(format, isTTY)) return pino.destination({ dest: 1, sync: true });
  return prettyDestination(isTTY);
}

/**
 * Readable lines, one per entry, to stdout (or `destination`, for tests). Synchronous, like the JSON
 * destination: a line logged just before an exit is not lost. Fields are printed as JSON (escaped); the message
 * is not, and messages quote what peers and clients chose (a member's name): pino-pretty drops most control
 * characters but keeps line breaks, so a name holding "\n[12:00:00.000] INFO: …" printed a forged line.
 */
export function prettyDestination(colorize: boolean, destination?: NodeJS.WritableStream): DestinationStream {
  return pretty({
    sync: true,
    colorize,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
    messageFormat: (log, messageKey) => escapeControls(String(log[messageKey] ?? '')),
    ...(destination ? { destination } : {}),
  });
}

/** Control characters (C0, DEL, C1) as \u escapes, so that a message is one line and cannot drive a terminal. */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
