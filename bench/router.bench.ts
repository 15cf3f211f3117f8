// Micro benchmark of Router.route to fake local agents (not a test). Prints one JSON object.
// Messages are made up front so only routing is measured; the fake mailbox is a fixed ring so the
// agent side allocates nothing. Minor GCs during each run show how much the router itself allocates.
// Run: npx tsx bench/router.bench.ts [messagesPerRun]
import { PerformanceObserver } from 'node:perf_hooks';
import { LocalAgentDirectory } from '../src/messaging/agent-directory.ts';
import { ClientInbox } from '../src/messaging/client-inbox.ts';
import type { DeliveryOutcome, LocalAgents } from '../src/messaging/delivery.ts';
import type { AclMessage } from '../src/messaging/message.ts';
import { Router } from '../src/messaging/router.ts';
import type { RouterObserver } from '../src/messaging/router-ports.ts';

const MESSAGES_PER_RUN = Number(process.argv[2] ?? 2_000_000);
const RUNS = 7;
const POOL = 1024;

class RingAgents implements LocalAgents {
  readonly ring: (AclMessage | undefined)[] = new Array(POOL).fill(undefined);
  index = 0;
  delivered = 0;
  readonly names = new Set<string>();
  has(name: string): boolean {
    return this.names.has(name);
  }
  deliver(message: AclMessage, _to: string): DeliveryOutcome {
    this.ring[this.index] = message;
    this.index = (this.index + 1) & (POOL - 1);
    this.delivered++;
    return 'queued';
  }
}

function makeRouter(observer?: RouterObserver) {
  const directory = new LocalAgentDirectory('bench');
  const agents = new RingAgents();
  for (let i = 0; i < 10_000; i++) {
    const name = `agent-${i}`;
    directory.upsert(name, 'bench', i < 3 ? ['trio'] : []);
    agents.names.add(name);
  }
  const router = new Router({
    directory,
    localAgents: agents,
    clients: new ClientInbox(),
    deadLetters: { record() {} },
    observer,
  });
  return { router, agents };
}

function pool(receiver: (i: number) => string | string[]): AclMessage[] {
  return Array.from({ length: POOL }, (_, i) => ({
    performative: 'inform' as const,
    sender: `agent-${(i * 31) % 10_000}`,
    receiver: receiver(i),
    content: { n: i },
    message_id: `m-${i}`,
    conversation_id: `c-${i}`,
  }));
}

let gcCount = 0;
new PerformanceObserver((list) => (gcCount += list.getEntries().length)).observe({ entryTypes: ['gc'] });

interface Result {
  msg_per_s: number;
  deliveries_per_s: number;
  ns_per_msg: number;
  gcs_per_million: number;
}

/** GC entries reach the observer only when the event loop turns. */
const observerTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function measure(route: (m: AclMessage) => void, messages: AclMessage[], count: () => number): Promise<Result> {
  for (let i = 0; i < 200_000; i++) route(messages[i & (POOL - 1)]); // warm-up: let V8 optimize first
  await observerTurn();
  const samples: Result[] = [];
  for (let run = 0; run < RUNS; run++) {
    const deliveredBefore = count();
    const gcBefore = gcCount;
    const start = process.hrtime.bigint();
    for (let i = 0; i < MESSAGES_PER_RUN; i++) route(messages[i & (POOL - 1)]);
    const ns = Number(process.hrtime.bigint() - start);
    await observerTurn();
    samples.push({
      msg_per_s: Math.round((MESSAGES_PER_RUN / ns) * 1e9),
      deliveries_per_s: Math.round(((count() - deliveredBefore) / ns) * 1e9),
      ns_per_msg: Math.round((ns / MESSAGES_PER_RUN) * 10) / 10,
      gcs_per_million: Math.round(((gcCount - gcBefore) / MESSAGES_PER_RUN) * 1e6 * 10) / 10,
    });
  }
  samples.sort((a, b) => a.msg_per_s - b.msg_per_s);
  return samples[RUNS >> 1];
}

function scenario(receiver: (i: number) => string | string[], observer?: RouterObserver): Promise<Result> {
  const { router, agents } = makeRouter(observer);
  return measure((m) => router.route(m), pool(receiver), () => agents.delivered);
}

const baselineAgents = new RingAgents();
let counted = 0;
const countingObserver: RouterObserver = {
  onRouted() {
    counted++;
  },
  onDeadLetter() {},
};

const results = {
  bench: 'router.route',
  node: process.version,
  messages_per_run: MESSAGES_PER_RUN,
  runs: RUNS,
  statistic: 'median run',
  // The fake mailbox alone: the floor the router adds to.
  baseline_direct_deliver: await measure((m) => baselineAgents.deliver(m, 'agent-1'), pool(() => 'agent-1'), () => baselineAgents.delivered),
  local_single_receiver: await scenario((i) => `agent-${(i * 7919) % 10_000}`),
  local_single_receiver_with_observer: await scenario((i) => `agent-${(i * 7919) % 10_000}`, countingObserver),
  local_receiver_list_of_1: await scenario((i) => [`agent-${(i * 7919) % 10_000}`]),
  local_receiver_list_of_3: await scenario((i) => [`agent-${i % 10_000}`, `agent-${(i + 1) % 10_000}`, `agent-${(i + 2) % 10_000}`]),
  capability_of_3_agents: await scenario(() => 'capability:trio'),
};
console.log(JSON.stringify(results, null, 2));
if (counted === 0) process.exitCode = 1; // keeps the observer's work from being optimized away
