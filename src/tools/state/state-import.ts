// Copies entries into a state backend, idempotently: each batch reads what is stored, writes only the
// entries whose JSON text differs, and counts what it did. Running the same import twice writes nothing
// the second time. Used by `caxton state import` (JSON lines) and `--from-postgres`.
import { BatchTooLarge, type StateBackend } from './state-backend.ts';
import { stateKeyProblem } from './state-key.ts';
import { STATE_BATCH_MAX_BYTES, STATE_BATCH_MAX_ENTRIES, STATE_VALUE_MAX_BYTES } from './state-limits.ts';

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

export interface ImportEntry {
  agent: string;
  key: string;
  valueJson: string;
}

/** Where checked entries go, one batch at a time: a backend here, or a node's import endpoint (the CLI). */
export interface ImportSink {
  write(batch: ImportEntry[]): Promise<{ written: number; unchanged: number; skipped?: number; problems?: string[] }>;
  /** A batch is sent before it would grow past this many bytes (keys and values), besides its entry bound. */
  maxBatchBytes?: number;
}

/**
 * The importer on a state backend: each batch reads what is stored and writes only what differs. Past the
 * agents' quotas: an import is an operator's act (a restore, a migration), and one refused half-way would
 * leave an agent with part of its state; what it writes is counted in the agents' usage all the same.
 */
export function backendSink(backend: StateBackend): ImportSink {
  return {
    async write(batch) {
      const byAgent = new Map<string, Array<{ key: string; valueJson: string }>>();
      for (const { agent, key, valueJson } of batch) {
        let list = byAgent.get(agent);
        if (!list) byAgent.set(agent, (list = []));
        list.push({ key, valueJson });
      }
      let written = 0;
      for (const [agent, entries] of byAgent) {
        const changed = await changedEntries(backend, agent, entries);
        if (changed.length) await backend.batchStore(agent, changed, { enforceQuota: false });
        written += changed.length;
      }
      return { written, unchanged: batch.length - written };
    },
  };
}

/**
 * The entries whose value differs from the stored one. Read as one batch within the batch bound; past it
 * (the keys hold up to 1 MiB each, 1 GB for a batch) one key at a time, so the node never holds them all.
 */
async function changedEntries(backend: StateBackend, agent: string, entries: Array<{ key: string; valueJson: string }>): Promise<Array<{ key: string; valueJson: string }>> {
  try {
    const stored = await backend.batchRetrieve(agent, entries.map((e) => e.key), STATE_BATCH_MAX_BYTES);
    return entries.filter((e) => stored.get(e.key) !== e.valueJson);
  } catch (error) {
    if (!(error instanceof BatchTooLarge)) throw error;
  }
  const changed: Array<{ key: string; valueJson: string }> = [];
  for (const entry of entries) if ((await backend.retrieve(agent, entry.key)) !== entry.valueJson) changed.push(entry);
  return changed;
}

export function importEntries(backend: StateBackend, items: AsyncIterable<ImportItem>): Promise<ImportCounts> {
  return importInto(backendSink(backend), items);
}

/** Checks each item, skips (and names) what cannot be imported, and hands the rest to `sink` in batches. */
export async function importInto(sink: ImportSink, items: AsyncIterable<ImportItem>): Promise<ImportCounts> {
  const counts: ImportCounts = { read: 0, written: 0, unchanged: 0, skipped: 0, problems: [] };
  const skip = (problem: string): void => {
    counts.skipped++;
    if (counts.problems.length < PROBLEMS_KEPT) counts.problems.push(problem);
  };
  // A repeated key would be written twice and differ from the stored value on every run: the first wins.
  // Memory: one entry per distinct (agent, key) of the source.
  const seen = new Set<string>();
  let batch: ImportEntry[] = [];
  let batchBytes = 0;

  const flush = async (): Promise<void> => {
    if (!batch.length) return;
    const done = await sink.write(batch);
    batch = [];
    batchBytes = 0;
    counts.written += done.written;
    counts.unchanged += done.unchanged;
    counts.skipped += done.skipped ?? 0;
    for (const problem of done.problems ?? []) if (counts.problems.length < PROBLEMS_KEPT) counts.problems.push(problem);
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
    const valueBytes = Buffer.byteLength(item.valueJson);
    if (valueBytes > STATE_VALUE_MAX_BYTES) {
      skip(`item ${counts.read}: key ${JSON.stringify(item.key)}: value larger than ${STATE_VALUE_MAX_BYTES} bytes`);
      continue;
    }
    const identity = JSON.stringify([item.agent, item.key]);
    if (seen.has(identity)) {
      skip(`item ${counts.read}: key ${JSON.stringify(item.key)} of agent ${item.agent} repeated (the first one was imported)`);
      continue;
    }
    seen.add(identity);
    const itemBytes = valueBytes + Buffer.byteLength(item.key) + Buffer.byteLength(item.agent);
    if (sink.maxBatchBytes !== undefined && batchBytes + itemBytes > sink.maxBatchBytes) await flush();
    batch.push(item);
    batchBytes += itemBytes;
    if (batch.length >= STATE_BATCH_MAX_ENTRIES) await flush();
  }
  await flush();
  return counts;
}
