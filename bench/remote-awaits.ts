// What the ledger of awaited remote answers (src/messaging/remote-awaits.ts) costs per request an agent sends
// to an agent on another node and the answer it gets: record + settle, next to the floor of any keyed ledger
// (a Map set and delete with the same composite string key), alternating, in the same run.
// Run: npx tsx bench/remote-awaits.ts [pairsPerRun]   (prints JSON lines: medians of 7 runs, ns per pair)
import type { AclMessage } from '../src/messaging/message.ts';
import { RemoteAwaits } from '../src/messaging/remote-awaits.ts';
import { median } from './lib/stats.ts';

const PAIRS = Number(process.argv[2] ?? 300_000);
const RUNS = 7;

const sent: AclMessage[] = Array.from({ length: PAIRS }, (_, i) => ({
  performative: 'request',
  sender: 'rally',
  receiver: 'echo',
  conversation_id: `conv-${i % 1000}`,
  message_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
}));
const replies: AclMessage[] = sent.map((m, i) => ({
  performative: 'inform',
  sender: 'echo',
  receiver: 'rally',
  conversation_id: m.conversation_id,
  message_id: `r-${i}`,
  in_reply_to: m.message_id,
}));

function ledgerRun(): number {
  const awaits = new RemoteAwaits({ maxEntries: 100_000, ttlMs: 30 * 60_000 });
  const start = process.hrtime.bigint();
  for (let i = 0; i < PAIRS; i++) {
    awaits.record(sent[i], 'echo', 'n2');
    awaits.settle(replies[i], 'rally');
  }
  const ns = Number(process.hrtime.bigint() - start) / PAIRS;
  if (awaits.size !== 0) throw new Error('the ledger kept answered entries');
  return ns;
}

function mapRun(): number {
  const map = new Map<string, AclMessage>();
  const start = process.hrtime.bigint();
  for (let i = 0; i < PAIRS; i++) {
    const m = sent[i];
    map.set(`${m.sender}\0echo\0${m.conversation_id}\0${m.message_id}`, m);
    const r = replies[i];
    map.delete(`rally\0${r.sender}\0${r.conversation_id}\0${r.in_reply_to}`);
  }
  return Number(process.hrtime.bigint() - start) / PAIRS;
}

const ledger: number[] = [];
const floor: number[] = [];
for (let run = 0; run < RUNS; run++) {
  ledger.push(ledgerRun());
  floor.push(mapRun());
}
console.log(JSON.stringify({ figure: 'remote_awaits_ns_per_pair', pairs: PAIRS, runs: RUNS, ledger: Math.round(median(ledger)), map_floor: Math.round(median(floor)) }));
