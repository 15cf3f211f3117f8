// The export format of agent state: one JSON object per line, {"agent": A, "key": K, "value": V}, V being
// the stored JSON itself (not a string holding it), so the file reads and diffs well and imports back.
import type { StateBackend } from './state-backend.ts';
import type { ImportItem } from './state-import.ts';
import { stateValueJson } from './state-key.ts';
import { STATE_VALUE_MAX_BYTES } from './state-limits.ts';

/** A line longer than this cannot hold a value of at most 1 MiB with its key and agent: skipped unparsed. */
const LINE_MAX_CHARS = STATE_VALUE_MAX_BYTES + 64 * 1024;

export async function* exportJsonLines(backend: StateBackend, agent?: string): AsyncGenerator<string> {
  for await (const entry of backend.entries(agent)) {
    // The stored text is JSON already: spliced in, not parsed and printed again.
    yield `{"agent":${JSON.stringify(entry.agent)},"key":${JSON.stringify(entry.key)},"value":${entry.value}}\n`;
  }
}

/** Import items from JSON lines; `agent` given stores every line for that agent instead of the line's own. */
export async function* itemsFromJsonLines(lines: AsyncIterable<string>, agent?: string): AsyncGenerator<ImportItem> {
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    if (line.length > LINE_MAX_CHARS) {
      yield { problem: `line ${n}: longer than ${LINE_MAX_CHARS} characters` };
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(line) as unknown;
    } catch {
      yield { problem: `line ${n}: not JSON` };
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      yield { problem: `line ${n}: expected an object {"agent", "key", "value"}` };
      continue;
    }
    const record = parsed as Record<string, unknown>;
    const owner = agent ?? record.agent;
    if (typeof owner !== 'string' || owner === '') {
      yield { problem: `line ${n}: agent: expected a non-empty string (or give --agent)` };
      continue;
    }
    if (typeof record.key !== 'string') {
      yield { problem: `line ${n}: key: expected a string` };
      continue;
    }
    if (!Object.hasOwn(record, 'value')) {
      yield { problem: `line ${n}: value: missing` };
      continue;
    }
    const valueJson = stateValueJson(record.value);
    if (typeof valueJson !== 'string') {
      yield { problem: `line ${n}: value: ${valueJson.problem}` };
      continue;
    }
    yield { agent: owner, key: record.key, valueJson };
  }
}
