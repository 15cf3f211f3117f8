// The worker pool's part in figures and hand-overs: the mailbox depth of an agent on a worker as the main
// thread reports it (handed over and not taken, plus what waits on the worker from its neighbours), and a
// release for a drain that brings the worker's mailbox back in order, with what arrived meanwhile after it.
import { afterEach, describe, expect, it } from 'vitest';
import { AgentWorkerPool, type DeliveryReports } from '../../../src/agents/workers/agent-worker-pool.ts';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { agentModule, message, RecordingSink, sha, spec } from '../fixtures.ts';

const reports: DeliveryReports = { routed() {}, routedCount() {}, refused() {}, lost() {} };
const pools: AgentWorkerPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.shutdown();
});

function makePool(workers: number, logged: string[] = [], states: string[] = []) {
  const sink = new RecordingSink();
  let pool: AgentWorkerPool;
  // The router: sends for an agent of the pool go back to it, the rest are recorded.
  const router = {
    route(m: AclMessage) {
      const to = m.receiver as string;
      if (pool.has(to)) pool.deliver(m, to);
      else sink.route(m);
    },
  };
  pool = new AgentWorkerPool({ nodeId: 'node-1', workers, sink: router, reports, observer: { onLog: (line) => logged.push(`${line.agent}:${line.message}`), onStateChange: (agent, _from, to) => states.push(`${agent}:${to}`) } });
  pools.push(pool);
  return { pool, sink };
}

/** Logs each message it gets, then counts to `spins` (a slow handler that finishes well inside its fuel). */
function slowLogger(spins: number): Promise<Uint8Array> {
  return agentModule(() => ({
    handle: `(local $i i32)
      (call $log (i32.const 2) (local.get $ptr) (local.get $len))
      (loop $spin (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $spin (i32.lt_u (local.get $i) (i32.const ${spins}))))
      (i32.const 0)`,
  }));
}

/** Sends `count` informs ("x") to `receiver` for each message it gets. */
function burstTo(receiver: string, count: number): Promise<Uint8Array> {
  return agentModule((s) => ({
    handle: `(local $n i32)
      (loop $send (drop (call $send ${s(`{"performative":"inform","receiver":"${receiver}","content":"x"}`)}))
        (local.set $n (i32.add (local.get $n) (i32.const 1))) (br_if $send (i32.lt_u (local.get $n) (i32.const ${count}))))
      (i32.const 0)`,
  }));
}

const slowLimits = { memory_pages: 256, fuel: 500_000_000, mailbox: 1000 };

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

const contentOf = (line: string): unknown => (JSON.parse(line.slice(line.indexOf(':') + 1)) as AclMessage).content;

describe('agent worker pool: mailbox depth and hand-over', () => {
  it('reports the mailbox depth of an agent on a worker: messages from the main thread and from its neighbours', async () => {
    const { pool } = makePool(1);
    // Slow enough (tens of ms per message) for the figures the worker sends mid-turn to show its queue.
    const slow = await slowLogger(10_000_000);
    await pool.start(spec('slow', { limits: slowLimits }), sha(slow), 1, slow);
    for (let i = 0; i < 10; i++) pool.deliver(message('slow', { performative: 'inform', content: i }), 'slow');
    // Handed over and not taken yet: counted at once, before the worker has even seen them.
    expect(pool.stats('slow').mailbox_depth).toBe(10);
    expect(pool.info('slow').stats.mailbox_depth).toBe(10);
    await pool.whenIdle();
    expect(pool.stats('slow').mailbox_depth).toBe(0);

    // A neighbour on the same worker sends 20 in one invocation: they wait on the worker, never crossing.
    const burst = await burstTo('slow', 20);
    await pool.start(spec('burst'), sha(burst), 1, burst);
    pool.deliver(message('burst', { performative: 'inform' }), 'burst');
    let deepest = 0;
    await until(() => {
      deepest = Math.max(deepest, pool.stats('slow').mailbox_depth);
      return deepest >= 5;
    }, 'the depth of sends inside the worker');
    await pool.whenIdle();
    expect(pool.stats('slow').mailbox_depth).toBe(0);
    expect(pool.stats('slow').messages_in).toBe(30);
  }, 60_000);

  it('prepareRelease then release hands over the queued messages in order, then those that arrived meanwhile', async () => {
    const logged: string[] = [];
    const states: string[] = [];
    const { pool } = makePool(2, logged, states);
    const slow = await slowLogger(3_000_000);
    await pool.start(spec('slow', { limits: slowLimits }), sha(slow), 1, slow);
    for (let i = 0; i < 40; i++) pool.deliver(message('slow', { performative: 'inform', content: i }), 'slow');
    await until(() => logged.length >= 2, 'the first messages handled');
    const preparing = pool.prepareRelease('slow');
    // Arrivals after the request stay on the main thread, after the mailbox the worker gives back.
    for (let i = 40; i < 45; i++) expect(pool.deliver(message('slow', { performative: 'inform', content: i }), 'slow')).toBe('queued');
    await preparing;
    expect(pool.deliver(message('slow', { performative: 'inform', content: 45 }), 'slow')).toBe('queued');
    expect(pool.has('slow')).toBe(true);
    // Stopped on its worker already, but reported only by release(), once the caller pointed the name at the
    // new owner: else the node's registry would publish it stopped here, over the new owner's record.
    expect(states).toEqual(['slow:deploying', 'slow:running']);
    const released = pool.release('slow');
    expect(states).toEqual(['slow:deploying', 'slow:running', 'slow:stopped']);
    expect(pool.has('slow')).toBe(false);
    const handled = logged.filter((l) => l.startsWith('slow:')).map(contentOf);
    const rest = released.map((m) => m.content);
    // Each message exactly once, in order: handled on the worker, or handed over.
    expect([...handled, ...rest]).toEqual(Array.from({ length: 46 }, (_, i) => i));
    expect(rest.length).toBeGreaterThan(5);
    expect(pool.deliver(message('slow'), 'slow')).toBe('not_found');
    await pool.whenIdle();
    expect(pool.threadFigures().reduce((n, f) => n + f.agents, 0)).toBe(0);
  }, 60_000);

  it('loses and doubles nothing when a neighbour on the worker sends to the agent being released', async () => {
    const logged: string[] = [];
    const { pool } = makePool(1, logged);
    const slow = await slowLogger(3_000_000);
    await pool.start(spec('slow', { limits: slowLimits }), sha(slow), 1, slow);
    await pool.start(spec('burst'), sha(await burstTo('slow', 20)), 1, await burstTo('slow', 20));
    pool.deliver(message('burst', { performative: 'inform' }), 'burst');
    await until(() => logged.length >= 1, 'the first message handled');
    // Burst runs again after slow has left its worker: these 20 cross to the main thread and are held there.
    pool.deliver(message('burst', { performative: 'inform' }), 'burst');
    await pool.prepareRelease('slow');
    await until(() => pool.stats('slow').mailbox_depth + logged.length >= 40, 'the second burst held');
    const released = pool.release('slow');
    expect(logged.length + released.length).toBe(40);
    expect(released.every((m) => m.content === 'x')).toBe(true);
  }, 60_000);

  it('an agent deleted during a hand-over: every message it had is handled or routed on, none dropped', async () => {
    const logged: string[] = [];
    const { pool, sink } = makePool(1, logged);
    const slow = await slowLogger(3_000_000);
    await pool.start(spec('slow', { limits: slowLimits }), sha(slow), 1, slow);
    for (let i = 0; i < 30; i++) pool.deliver(message('slow', { performative: 'inform', content: i }), 'slow');
    await until(() => logged.length >= 2, 'the first messages handled');
    const preparing = pool.prepareRelease('slow');
    // Held on the main thread for the new owner, which never takes them: the agent is deleted instead.
    for (let i = 30; i < 35; i++) pool.deliver(message('slow', { performative: 'inform', content: i }), 'slow');
    await pool.remove('slow');
    await preparing;
    expect(pool.has('slow')).toBe(false);
    await until(() => logged.length + sink.messages.length >= 35, 'every message accounted for');
    // Routed on, each reaches the router, which answers for an agent that is gone.
    const handled = logged.filter((l) => l.startsWith('slow:')).map(contentOf);
    const routed = sink.messages.map((m) => m.content);
    expect([...handled, ...routed].sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 35 }, (_, i) => i));
  }, 60_000);
});
