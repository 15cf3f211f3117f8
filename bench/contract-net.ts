// Benchmark of conversations through the real node (CaxtonNode, WebAssembly agents from examples/build; not a
// test). Prints one JSON object per line:
// - contract_net_agent_initiator: a round run by the SDK initiator agent with 10 participant agents, timed from
//   the client's request to the initiator's inform. The initiator decides at reply_by (deadline_ms, short here)
//   plus its 2 ms margin, so the figure is deadline + margin + the protocol's own cost (`overhead_*`).
// - contract_net_client_all_answered: the same round driven by a client through NodeServices.sendMessage, which
//   accepts as soon as every participant answered (the wait ends then): cfp → 10 proposals → accept-proposal +
//   reject-proposal → inform. No deadline in it: the protocol machinery and the agents alone.
// - fipa_request_conversations: fipa-request conversations (client → echo agent, request → inform) opened and
//   closed per second with many in flight.
// - tracked_conversation_memory: heap per conversation held by the node's tracker (open fipa-request with one
//   participant; open contract net of 10 with a reply_by timer).
// Run: npx tsx bench/contract-net.ts [rounds]   (needs examples/build: npm run build:examples)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../src/config/config.ts';
import type { AclMessage } from '../src/messaging/message.ts';
import { CaxtonNode } from '../src/node/node.ts';
import { latencyMicros, round } from './lib/stats.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROUNDS = Number(process.argv[2] ?? 200);
const PARTICIPANTS = 10;
const DEADLINE_MS = 10;
const REQUEST_SECONDS = 3;
const IN_FLIGHT = 256;
const MEMORY_CONVERSATIONS = 20_000;

const built = (name: string) => readFileSync(new URL(`../examples/build/${name}.wasm`, import.meta.url));
const print = (figure: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(figure)}\n`);

async function agentInitiatorRounds(node: CaxtonNode): Promise<void> {
  const samples = new Float64Array(ROUNDS);
  let failed = 0;
  for (let i = -10; i < ROUNDS; i++) {
    const started = process.hrtime.bigint();
    const result = await node.sendMessage(
      { performative: 'request', receiver: 'buyer', protocol: 'fipa-request', content: { task: `t${i}`, capability: 'bench', deadline_ms: DEADLINE_MS } },
      { principal: 'bench', waitMs: 5000 },
    );
    const elapsed = Number(process.hrtime.bigint() - started);
    if (result.replies?.[0]?.performative !== 'inform') failed++;
    if (i >= 0) samples[i] = elapsed;
  }
  const { p50_us, p99_us } = latencyMicros(samples);
  print({
    figure: 'contract_net_agent_initiator',
    participants: PARTICIPANTS,
    rounds: ROUNDS,
    deadline_ms: DEADLINE_MS,
    decision: 'at reply_by + 2 ms margin (retried 5 ms later if the router still finds it early)',
    p50_ms: round(p50_us / 1000),
    p99_ms: round(p99_us / 1000),
    overhead_p50_ms: round(p50_us / 1000 - DEADLINE_MS),
    failed_rounds: failed,
  });
}

async function clientRounds(node: CaxtonNode): Promise<void> {
  const samples = new Float64Array(ROUNDS);
  let failed = 0;
  const principal = { principal: 'bench' };
  for (let i = -10; i < ROUNDS; i++) {
    const started = process.hrtime.bigint();
    const cfp = await node.sendMessage(
      { performative: 'cfp', receiver: 'capability:bench', protocol: 'fipa-contract-net', content: { task: `c${i}` } },
      { ...principal, waitMs: 5000 },
    );
    const proposals = (cfp.replies ?? []).filter((r) => r.performative === 'propose') as AclMessage[];
    proposals.sort((a, b) => (a.content as { price: number }).price - (b.content as { price: number }).price);
    const [best, ...rest] = proposals;
    const base = { protocol: 'fipa-contract-net', conversation_id: cfp.conversation_id };
    if (rest.length > 0) await node.sendMessage({ ...base, performative: 'reject-proposal', receiver: rest.map((r) => r.sender) }, principal);
    const accepted = await node.sendMessage({ ...base, performative: 'accept-proposal', receiver: best.sender }, { ...principal, waitMs: 5000 });
    const elapsed = Number(process.hrtime.bigint() - started);
    if (proposals.length !== PARTICIPANTS || accepted.replies?.[0]?.performative !== 'inform') failed++;
    if (i >= 0) samples[i] = elapsed;
  }
  const { p50_us, p99_us } = latencyMicros(samples);
  print({
    figure: 'contract_net_client_all_answered',
    participants: PARTICIPANTS,
    rounds: ROUNDS,
    decision: 'as soon as every participant answered',
    p50_ms: round(p50_us / 1000, 3),
    p99_ms: round(p99_us / 1000, 3),
    failed_rounds: failed,
  });
}

async function requestConversations(node: CaxtonNode): Promise<void> {
  let completed = 0;
  let failed = 0;
  const until = performance.now() + REQUEST_SECONDS * 1000;
  const opened = node.conversations.size;
  const worker = async () => {
    while (performance.now() < until) {
      const result = await node.sendMessage(
        { performative: 'request', receiver: 'echo', protocol: 'fipa-request', content: { n: completed } },
        { principal: 'bench', waitMs: 5000 },
      );
      if (result.replies?.[0]?.performative === 'inform') completed++;
      else failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const seconds = (performance.now() - started) / 1000;
  print({
    figure: 'fipa_request_conversations',
    path: 'NodeServices.sendMessage → router (checked) → echo wasm agent → inform → ClientInbox',
    in_flight: IN_FLIGHT,
    opened_and_closed_per_s: Math.round(completed / seconds),
    tracked_after: node.conversations.size - opened,
    failed,
  });
}

function trackedMemory(node: CaxtonNode): void {
  const tracker = node.conversations;
  const measure = (label: string, open: (i: number) => void) => {
    tracker.close();
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < MEMORY_CONVERSATIONS; i++) open(i);
    gc();
    gc();
    const after = process.memoryUsage().heapUsed;
    const held = tracker.size;
    tracker.close();
    return { label, conversations: held, bytes_each: Math.round((after - before) / held) };
  };
  const participants = Array.from({ length: PARTICIPANTS }, (_, i) => `seller-${i}`);
  const replyBy = new Date(Date.now() + 600_000).toISOString();
  const request = measure('fipa-request, 1 participant, open', (i) => {
    tracker.check({ performative: 'request', sender: 'client:bench', receiver: 'echo', protocol: 'fipa-request', conversation_id: `r${i}`, message_id: `m${i}` }, ['echo']);
  });
  const contractNet = measure('fipa-contract-net, 10 participants, open, reply_by timer', (i) => {
    tracker.check(
      { performative: 'cfp', sender: 'buyer', receiver: 'capability:bench', protocol: 'fipa-contract-net', conversation_id: `c${i}`, message_id: `n${i}`, reply_by: replyBy },
      participants,
    );
  });
  print({ figure: 'tracked_conversation_memory', note: 'heapUsed delta / conversations; messages made in the loop are garbage by then', results: [request, contractNet] });
}

const dataDir = mkdtempSync(join(tmpdir(), 'caxton-bench-cnet-'));
const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: {} });
const node = await CaxtonNode.start({ config, listen: false });
// Every timer the node sets is unref'd (they must not hold a stopping node); without a server listening,
// this keeps the process alive while a round waits for its deadline.
const keepAlive = setInterval(() => {}, 1000);
try {
  await node.deployAgent({ name: 'buyer' }, built('contract-net-initiator'));
  await node.deployAgent({ name: 'echo' }, built('echo'));
  for (let i = 0; i < PARTICIPANTS; i++) await node.deployAgent({ name: `seller-${i}`, capabilities: ['bench'] }, built('contract-net-participant'));
  await agentInitiatorRounds(node);
  await clientRounds(node);
  await requestConversations(node);
  trackedMemory(node);
} finally {
  clearInterval(keepAlive);
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
