// Copies entries into a state backend, idempotently: each batch reads what is stored, writes only the
// entries whose JSON text differs, and counts what it did. Running the same import twice writes nothing
// the second time. Used by `caxton state import` (JSON lines) and `--from-postgres`.
import type { StateBackend } from './state-backend.ts';
import { stateKeyProblem } from './state-key.ts';
import { STATE_BATCH_MAX_ENTRIES, STATE_VALUE_MAX_BYTES } from './state-limits.ts';

/** One entry to import; `problem` set when the source row cannot become an entry (it is skipped). */
export type ImportItem = { agent: string; key: string; valueJson: string } | { problem: string };

export interface ImportCounts {
  /** Items read from the source. */
  read: number;
  /** Entries stored (new, or with a different value). */
  written: number;
  /** Entries already stored with the same value. */
  unchanged: number;
  /** Items that could not be imported: a bad key, a value that is not JSON or larger than 1 MiB, a key repeated in the source. */
  skipped: number;
  /** The first few reasons for skipping, so an operator can fix the source. */
  problems: string[];
}

/** Reasons kept in ImportCounts.problems: enough to see what is wrong without printing a million lines. */
const PROBLEMS_KEPT = 10;

export async function importEntries(backend: StateBackend, items: AsyncIterable<ImportItem>): Promise<ImportCounts> {
  const counts: ImportCounts = { read: 0, written: 0, unchanged: 0, skipped: 0, problems: [] };
  const skip = (problem: string): void => {
    counts.skipped++;
    if (counts.problems.length < PROBLEMS_KEPT) counts.problems.push(problem);
  };
  // A repeated key would be written twice and differ from the stored value on every run: the first wins.
  // Memory: one entry per distinct (agent, key) of the source.
  const seen = new Set<string>();
  let batch: Array<{ agent: string; key: string; valueJson: string }> = [];

  const flush = async (): Promise<void> => {
    const byAgent = new Map<string, Array<{ key: string; valueJson: string }>>();
    for (const { agent, key, valueJson } of batch) {
      let list = byAgent.get(agent);
      if (!list) byAgent.set(agent, (list = []));
      list.push({ key, valueJson });
    }
    batch = [];
    for (const [agent, entries] of byAgent) {
      const stored = await backend.batchRetrieve(agent, entries.map((e) => e.key));
      const changed = entries.filter((e) => stored.get(e.key) !== e.valueJson);
      if (changed.length) await backend.batchStore(agent, changed);
      counts.written += changed.length;
      counts.unchanged += entries.length - changed.length;
    }
  };

  for await (const item of items) {
    counts.read++;
    if ('problem' in item) {
      skip(`item ${counts.read}: ${item.problem}`);
      continue;
    }
    const keyProblem = stateKeyProblem(item.key);
    if (keyProblem) {
      skip(`item ${counts.read}: key ${JSON.stringify(String(item.key).slice(0, 80))}: ${keyProblem}`);
      continue;
    }
    if (!item.agent) {
      skip(`item ${counts.read}: no agent`);
      continue;
    }
    if (Buffer.byteLength(item.valueJson) > STATE_VALUE_MAX_BYTES) {
      skip(`item ${counts.read}: key ${JSON.stringify(item.key)}: value larger than ${STATE_VALUE_MAX_BYTES} bytes`);
      continue;
    }
    const identity = JSON.stringify([item.agent, item.key]);
    if (seen.has(identity)) {
      skip(`item ${counts.read}: key ${JSON.stringify(item.key)} of agent ${item.agent} repeated (the first one was imported)`);
      continue;
    }
    seen.add(identity);
    batch.push(item);
    if (batch.length >= STATE_BATCH_MAX_ENTRIES) await flush();
  }
  await flush();
  return counts;
}
