// What a command reads from an answer, checked before anything is printed. Whatever answers at --server (a
// proxy, an older node, something else on that port) may send 200 with another shape: printing `undefined`
// with exit 0 (a script would take "undefined" as a join token) or a TypeError's text ("Cannot read properties
// of undefined") is no answer. The error names the field, as a bad flag's does.
import { CliError } from './cli-error.ts';

/** `list`: an array of objects (table rows); `strings`: an array of strings. A trailing `?`: may be absent. */
type FieldKind = 'string' | 'number' | 'boolean' | 'object' | 'list' | 'strings';
export type AnswerShape = Readonly<Record<string, FieldKind | `${FieldKind}?`>>;

const DESCRIPTIONS: Record<FieldKind, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  list: 'a list of objects',
  strings: 'a list of strings',
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fits(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === kind;
    case 'object':
      return isObject(value);
    case 'list':
      return Array.isArray(value) && value.every(isObject);
    case 'strings':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
  }
}

/** Throws a CliError naming the first field of `shape` that `body` lacks or holds as another kind. */
export function checkAnswer(body: unknown, shape: AnswerShape, server: string, request: string): void {
  const wrong = (what: string): CliError => new CliError(`unexpected answer from ${server} to ${request}: ${what} (is it a Caxton node of this version?)`);
  if (!isObject(body)) throw wrong('expected a JSON object');
  for (const [field, spec] of Object.entries(shape)) {
    const optional = spec.endsWith('?');
    const kind = (optional ? spec.slice(0, -1) : spec) as FieldKind;
    const value = body[field];
    if (value === undefined && optional) continue;
    if (!fits(value, kind)) throw wrong(`"${field}" is ${value === undefined ? 'missing' : 'not ' + DESCRIPTIONS[kind]}`);
  }
}

/** The objects of a nested list the shape check cannot reach (rows of rows), anything else left out. */
export function listOf<T>(value: T[] | undefined): T[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}
