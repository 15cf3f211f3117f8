// How results reach the user: aligned tables and key/value blocks for people, JSON for scripts
// (`--output json`), written through an injected sink so tests can run the CLI in-process.

export type OutputFormat = 'table' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'json'];

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export interface Column<Row> {
  header: string;
  value: (row: Row) => unknown;
}

/** A cell as text: strings as they are (made printable), anything else as compact JSON, missing as '-'. */
export function cell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'string') return printable(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.length ? printable(value.join(',')) : '-';
  return JSON.stringify(value);
}

/**
 * Text others chose (an agent's log line, a member's name from gossip, a message's sender) as it may reach a
 * terminal: control characters (C0, DEL, C1) as \u escapes. Raw, an agent's log line set the terminal's title,
 * cleared the screen and printed a forged line under `caxton agent logs`. JSON output is escaped already.
 */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function renderTable<Row>(columns: Column<Row>[], rows: Row[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `key: value` lines with the keys aligned. */
export function renderFields(fields: Array<[string, unknown]>): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${cell(v)}`).join('\n') + '\n';
}

export class Printer {
  constructor(
    private readonly io: CliIo,
    readonly format: OutputFormat,
  ) {}

  get json(): boolean {
    return this.format === 'json';
  }

  /** Prints `forJson` as JSON in json mode, else the text `forPeople` builds. */
  result(forJson: unknown, forPeople: () => string): void {
    this.io.out(this.json ? `${JSON.stringify(forJson, null, 2)}\n` : forPeople());
  }

  /** One item of a stream: a JSON line in json mode (NDJSON), else the text. */
  item(forJson: unknown, forPeople: () => string): void {
    this.io.out(this.json ? `${JSON.stringify(forJson)}\n` : forPeople());
  }
}
