// Benchmark of protocol enforcement through Router.route (not a test). Prints one JSON object:
// - conversations opened and closed per second (fipa-request request→inform; with a reply_by, i.e. a real
//   deadline timer each; a contract net of 3 participants, 7 messages), messages made up front, the fake
//   agents' replies routed by the driver as the agents would;
// - the extra cost of the tracker for messages it does not enforce (no protocol, unknown protocol);
// - memory per tracked conversation: heapUsed delta / count for open fipa-request conversations.
// Run: npx tsx bench/conversations.bench.ts [conversationsPerRun]
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LocalAgentDirectory } from '../src/messaging/agent-directory.ts';
import { ClientInbox } from '../src/messaging/client-inbox.ts';
import { ConversationTracker } from '../src/messaging/conversations/conversation-tracker.ts';
import type { DeliveryOutcome, LocalAgents } from '../src/messaging/delivery.ts';
import type { AclMessage, MessageInput } from '../src/messaging/message.ts';
import { Router } from '../src/messaging/router.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const PER_RUN = Number(process.argv[2] ?? 50_000);
const RUNS = 5;
const AGENTS = 1000;
const POOL = 1024;

class CountingAgents implements LocalAgents {
  delivered = 0;
  rejected = 0;
  has(): boolean {
    return true;
  }
  deliver(message: AclMessage): DeliveryOutcome {
    this.delivered++;
    if (message.performative === 'not-understood' || message.performative === 'failure') this.rejected++;
    return 'queued';
  }
}

function makeRouter(withTracker: boolean) {
  const directory = new LocalAgentDirectory('bench');
  for (let i = 0; i < AGENTS; i++) directory.upsert(`agent-${i}`, 'bench', []);
  const agents = new CountingAgents();
  const tracker = withTracker ? new ConversationTracker() : undefined;
  const router = new Router({ directory, localAgents: agents, clients: new ClientInbox(), deadLetters: { record() {} }, conversations: tracker });
  return { router, agents, tracker };
}

let sequence = 0;
const make = (input: MessageInput & { sender: string; conversation_id: string }): AclMessage => ({ message_id: `m${++sequence}`, ...input });
const agent = (i: number) => `agent-${i % AGENTS}`;

type Script = (conversation: string, i: number) => AclMessage[];

const requestInform: Script = (c, i) => [
  make({ performative: 'request', sender: agent(i), receiver: agent(i + 1), protocol: 'fipa-request', conversation_id: c }),
  make({ performative: 'inform', sender: agent(i + 1), receiver: agent(i), protocol: 'fipa-request', conversation_id: c }),
];

const requestWithDeadline: Script = (c, i) => {
  const [request, inform] = requestInform(c, i);
  return [{ ...request, reply_by: new Date(Date.now() + 60_000).toISOString() }, inform];
};

const contractNetOf3: Script = (c, i) => {
  const [boss, a, b, d] = [agent(i), agent(i + 1), agent(i + 2), agent(i + 3)];
  const p = 'fipa-contract-net';
  return [
    make({ performative: 'cfp', sender: boss, receiver: [a, b, d], protocol: p, conversation_id: c, reply_by: new Date(Date.now() + 60_000).toISOString() }),
    make({ performative: 'propose', sender: a, receiver: boss, protocol: p, conversation_id: c }),
    make({ performative: 'propose', sender: b, receiver: boss, protocol: p, conversation_id: c }),
    make({ performative: 'refuse', sender: d, receiver: boss, protocol: p, conversation_id: c }),
    make({ performative: 'accept-proposal', sender: boss, receiver: a, protocol: p, conversation_id: c }),
    make({ performative: 'reject-proposal', sender: boss, receiver: b, protocol: p, conversation_id: c }),
    make({ performative: 'inform', sender: a, receiver: boss, protocol: p, conversation_id: c }),
  ];
};

function median<T>(samples: T[], key: (s: T) => number): T {
  return [...samples].sort((x, y) => key(x) - key(y))[samples.length >> 1];
}

function conversationsPerSecond(script: Script) {
  const { router, agents, tracker } = makeRouter(true);
  const samples = [];
  for (let run = -1; run < RUNS; run++) {
    const messages: AclMessage[] = [];
    for (let i = 0; i < PER_RUN; i++) messages.push(...script(`conv-${run}-${i}`, i));
    gc();
    const start = process.hrtime.bigint();
    for (let i = 0; i < messages.length; i++) router.route(messages[i]);
    const ns = Number(process.hrtime.bigint() - start);
    if (run >= 0) {
      samples.push({
        conversations_per_s: Math.round((PER_RUN / ns) * 1e9),
        messages_per_s: Math.round((messages.length / ns) * 1e9),
        ns_per_message: Math.round(ns / messages.length),
      });
    }
  }
  if (agents.rejected !== 0) throw new Error(`${agents.rejected} messages were refused: the script breaks its protocol`);
  tracker!.close();
  return median(samples, (s) => s.conversations_per_s);
}

function unenforcedCost(protocol: string | undefined, withTracker: boolean) {
  const { router } = makeRouter(withTracker);
  const pool = Array.from({ length: POOL }, (_, i) =>
    make({ performative: 'inform', sender: agent(i), receiver: agent(i * 7), conversation_id: `c${i}`, ...(protocol ? { protocol } : {}) }),
  );
  const count = 2_000_000;
  for (let i = 0; i < 200_000; i++) router.route(pool[i & (POOL - 1)]);
  const samples = [];
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; i++) router.route(pool[i & (POOL - 1)]);
    samples.push(Number(process.hrtime.bigint() - start) / count);
  }
  return Math.round(median(samples, (s) => s) * 10) / 10;
}

/** Heap per open conversation; receivers (and their name strings) exist before, as they do in a node. */
function bytesPerConversation(count: number, participants: number) {
  const tracker = new ConversationTracker({ maxConversations: count });
  const requests = Array.from({ length: count }, (_, i) =>
    participants === 1
      ? make({ performative: 'request', sender: agent(i), receiver: agent(i + 1), protocol: 'fipa-request', conversation_id: `mem-${i}` })
      : make({
          performative: 'cfp',
          sender: agent(i),
          receiver: Array.from({ length: participants }, (_, j) => agent(i + 1 + j)),
          protocol: 'fipa-contract-net',
          conversation_id: `mem-${i}`,
          reply_by: new Date(Date.now() + 3_600_000).toISOString(),
        }),
  );
  const receivers = requests.map((m) => (Array.isArray(m.receiver) ? m.receiver : [m.receiver]));
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) tracker.check(requests[i], receivers[i]);
  gc();
  const after = process.memoryUsage().heapUsed;
  if (tracker.size !== count) throw new Error('not every conversation was tracked');
  tracker.close();
  return Math.round((after - before) / count);
}

const results = {
  bench: 'conversations through Router.route',
  node: process.version,
  conversations_per_run: PER_RUN,
  runs: RUNS,
  statistic: 'median run',
  fipa_request_2_messages: conversationsPerSecond(requestInform),
  fipa_request_with_reply_by_timer: conversationsPerSecond(requestWithDeadline),
  fipa_contract_net_3_participants_7_messages: conversationsPerSecond(contractNetOf3),
  ns_per_unenforced_message: {
    no_tracker_no_protocol: unenforcedCost(undefined, false),
    tracker_no_protocol: unenforcedCost(undefined, true),
    tracker_unknown_protocol: unenforcedCost('my-protocol', true),
  },
  bytes_per_open_fipa_request_conversation: bytesPerConversation(100_000, 1),
  // Includes one armed deadline timer (a real setTimeout) per conversation.
  bytes_per_open_contract_net_of_10: bytesPerConversation(20_000, 10),
};
console.log(JSON.stringify(results, null, 2));
