// The registry on the wire, compact MessagePack arrays behind Caxton's payload header (caxton-payload.ts):
//   update (one gossip user message):  [0xCA][registryUpdate][entry]
//   state  (push-pull user state):     [0xCA][registryState][array32 of entry]
//   entry:  [name, lamport, writer, record | nil]
//   record: [node, version, sha256 (32 raw bytes), capabilities, state index, pinned | nil,
//            memory_pages, fuel, mailbox, tools | nil, (failover)]
//   failover ('move' | 'wait') is written only when the spec names one, so records without it keep the 10
//   fields nodes of the previous version read.
//   stamp  (one gossip user message):  [0xCA][registryStamp][name, lamport, writer, written_at]
//   written_at is the Unix time in ms at which the writer made the write (name, lamport, writer): what a
//   receiver measures convergence from. It travels in a message of its own because the previous version's
//   decoder refuses an update with a trailer or an extra field (it drops the whole update), while a payload
//   kind it does not know is dropped without harm (test/cluster/registry/previous-decoder.test.ts).
// Decoders never throw: garbage, truncation or a field out of bounds gives undefined (or skips that entry).
import { Packr, Unpackr } from 'msgpackr';
import { CAXTON_MAGIC, PayloadKind } from '../caxton-payload.ts';
import { AGENT_STATES, RECORD_LIMITS, recordProblem, type AgentRecord } from './agent-record.ts';
import type { RegistryEntry } from './registry-entry.ts';

const packr = new Packr({ useRecords: false, moreTypes: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false });

/** Lamport times stay exact in a double and in MessagePack's uint64. */
const MAX_LAMPORT = Number.MAX_SAFE_INTEGER;

export function encodeEntry(entry: RegistryEntry): Uint8Array {
  const r = entry.record;
  const record =
    r === null
      ? null
      : [
          r.node,
          r.version,
          Buffer.from(r.module_sha256, 'hex'),
          r.capabilities,
          AGENT_STATES.indexOf(r.state),
          r.pinned ?? null,
          r.limits.memory_pages,
          r.limits.fuel,
          r.limits.mailbox,
          r.tools ?? null,
          ...(r.failover !== undefined ? [r.failover] : []),
        ];
  return packr.pack([entry.name, entry.lamport, entry.writer, record]);
}

/** One gossip update: the header and one entry. */
export function encodeUpdate(entry: RegistryEntry): Uint8Array {
  return updateOf(encodeEntry(entry));
}

/** One gossip update around an entry encoded by encodeEntry. */
export function updateOf(encodedEntry: Uint8Array): Uint8Array {
  return withHeader(PayloadKind.registryUpdate, [encodedEntry], undefined);
}

/** The push-pull state: the header and the given (already encoded) entries. */
export function encodeState(encodedEntries: readonly Uint8Array[]): Uint8Array {
  return withHeader(PayloadKind.registryState, encodedEntries, encodedEntries.length);
}

/** Bytes of a state around its entries: magic, kind, array32 header. */
export const STATE_OVERHEAD_BYTES = 2 + 5;

export function decodeUpdate(payload: Uint8Array): RegistryEntry | undefined {
  if (payload.length < 3 || payload[0] !== CAXTON_MAGIC || payload[1] !== PayloadKind.registryUpdate) return undefined;
  const value = unpack(payload.subarray(2));
  return value === undefined ? undefined : entryFrom(value);
}

/**
 * The valid entries of a state (invalid ones are skipped and counted); undefined if it is not a registry
 * state. `known(name, lamport, writer)` true skips an entry before its record is checked: a write already
 * held (the same Lamport time and writer is the same write), which in a steady cluster is nearly all of them.
 */
export function decodeState(
  payload: Uint8Array,
  known?: (name: unknown, lamport: unknown, writer: unknown) => boolean,
): { entries: RegistryEntry[]; invalid: number } | undefined {
  if (payload.length < 3 || payload[0] !== CAXTON_MAGIC || payload[1] !== PayloadKind.registryState) return undefined;
  const value = unpack(payload.subarray(2));
  if (!Array.isArray(value)) return undefined;
  const entries: RegistryEntry[] = [];
  let invalid = 0;
  for (const item of value) {
    if (known && Array.isArray(item) && item.length === 4 && known(item[0], item[1], item[2])) continue;
    const entry = entryFrom(item);
    if (entry) entries.push(entry);
    else invalid += 1;
  }
  return { entries, invalid };
}

/** When the write (name, lamport, writer) was made at its writer, in Unix ms. */
export interface RegistryStamp {
  name: string;
  lamport: number;
  writer: string;
  writtenAtMs: number;
}

export function encodeStamp(stamp: RegistryStamp): Uint8Array {
  return withHeader(PayloadKind.registryStamp, [packr.pack([stamp.name, stamp.lamport, stamp.writer, stamp.writtenAtMs])], undefined);
}

/** Undefined for anything that is not a valid stamp (never throws). */
export function decodeStamp(payload: Uint8Array): RegistryStamp | undefined {
  if (payload.length < 3 || payload[0] !== CAXTON_MAGIC || payload[1] !== PayloadKind.registryStamp) return undefined;
  const value = unpack(payload.subarray(2));
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  const [name, lamport, writer, writtenAtMs] = value as unknown[];
  if (!validWrite(name, lamport, writer)) return undefined;
  if (typeof writtenAtMs !== 'number' || !Number.isFinite(writtenAtMs) || writtenAtMs < 0 || writtenAtMs > MAX_LAMPORT) return undefined;
  return { name, lamport: lamport as number, writer: writer as string, writtenAtMs };
}

function withHeader(kind: number, parts: readonly Uint8Array[], arrayCount: number | undefined): Uint8Array {
  let size = 2 + (arrayCount === undefined ? 0 : 5);
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  out[0] = CAXTON_MAGIC;
  out[1] = kind;
  let at = 2;
  if (arrayCount !== undefined) {
    out[2] = 0xdd;
    new DataView(out.buffer).setUint32(3, arrayCount);
    at = 7;
  }
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function unpack(bytes: Uint8Array): unknown {
  try {
    return unpackr.unpack(bytes);
  } catch {
    return undefined;
  }
}

function entryFrom(value: unknown): RegistryEntry | undefined {
  if (!Array.isArray(value) || value.length !== 4) return undefined;
  const [name, lamport, writer, rec] = value as unknown[];
  if (!validWrite(name, lamport, writer)) return undefined;
  if (rec === null) return { name, lamport: lamport as number, writer: writer as string, record: null };
  const record = recordFrom(name, rec);
  return record ? { name, lamport: lamport as number, writer: writer as string, record } : undefined;
}

/** The (name, lamport, writer) that names one write. */
function validWrite(name: unknown, lamport: unknown, writer: unknown): name is string {
  if (typeof name !== 'string' || !RECORD_LIMITS.namePattern.test(name)) return false;
  if (typeof lamport !== 'number' || !Number.isInteger(lamport) || lamport < 1 || lamport > MAX_LAMPORT) return false;
  return typeof writer === 'string' && writer.length > 0 && writer.length <= RECORD_LIMITS.maxNodeIdLength;
}

function recordFrom(name: string, value: unknown): AgentRecord | undefined {
  if (!Array.isArray(value) || (value.length !== 10 && value.length !== 11)) return undefined;
  const [node, version, sha, capabilities, state, pinned, memoryPages, fuel, mailbox, tools, failover] = value as unknown[];
  if (!(sha instanceof Uint8Array) || sha.length !== 32) return undefined;
  if (typeof state !== 'number' || !Number.isInteger(state) || state < 0 || state >= AGENT_STATES.length) return undefined;
  const record = {
    name,
    node,
    version,
    module_sha256: Buffer.from(sha.buffer, sha.byteOffset, sha.length).toString('hex'),
    capabilities,
    state: AGENT_STATES[state],
    limits: { memory_pages: memoryPages, fuel, mailbox },
  } as AgentRecord;
  if (pinned !== null) record.pinned = pinned as string;
  if (tools !== null) record.tools = tools as string[];
  if (failover !== undefined) record.failover = failover as 'move' | 'wait';
  // recordProblem checks every type above (a peer may send anything); copy drops nothing valid.
  return recordProblem(record) === undefined ? { ...record, capabilities: [...record.capabilities] } : undefined;
}
