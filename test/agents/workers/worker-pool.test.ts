// The agent worker pool on its own: the AgentHost face of the runtime, with agents on worker threads.
import { afterEach, describe, expect, it } from 'vitest';
import { CaxtonError } from '../../../src/errors.ts';
import type { AgentHost } from '../../../src/agents/agent-host.ts';
import { AgentWorkerPool, type DeliveryReports } from '../../../src/agents/workers/agent-worker-pool.ts';
import type { DeliveryOutcome } from '../../../src/messaging/delivery.ts';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { agentModule, echoAgent, message, RecordingSink, sha, spec } from '../fixtures.ts';

class RecordingReports implements DeliveryReports {
  routedMessages: { message: AclMessage; receiver: string }[] = [];
  counted = 0;
  refusals: { message: AclMessage; receiver: string; outcome: DeliveryOutcome }[] = [];
  losses: { message: AclMessage; receiver: string; text: string }[] = [];
  routed(message: AclMessage, receiver: string) {
    this.routedMessages.push({ message, receiver });
  }
  routedCount(count: number) {
    this.counted += count;
  }
  refused(message: AclMessage, receiver: string, outcome: DeliveryOutcome) {
    this.refusals.push({ message, receiver, outcome });
  }
  lost(message: AclMessage, receiver: string, text: string) {
    this.losses.push({ message, receiver, text });
  }
}

const pools: AgentWorkerPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.shutdown();
});

function makePool(workers: number, extra: Partial<ConstructorParameters<typeof AgentWorkerPool>[0]> = {}) {
  const sink = new RecordingSink();
  const reports = new RecordingReports();
  // The pool's sink is the router; here sends that leave a worker are recorded, and those for agents are delivered.
  let pool: AgentWorkerPool;
  const router = {
    route(m: AclMessage) {
      const to = m.receiver as string;
      if (pool.has(to)) pool.deliver(m, to);
      else sink.route(m);
    },
  };
  pool = new AgentWorkerPool({ nodeId: 'node-1', workers, sink: router, reports, ...extra });
  pools.push(pool);
  const deploy = (name: string, bytes: Uint8Array) => pool.start(spec(name), sha(bytes), 1, bytes);
  return { pool: pool as AgentWorkerPool & AgentHost, sink, reports, deploy };
}

describe('agent worker pool', () => {
  it('runs an echo agent on a worker: the reply reaches the main thread stamped, figures and logs are mirrored', async () => {
    const { pool, sink, deploy } = makePool(2);
    const info = await deploy('echo', await echoAgent());
    expect(info).toMatchObject({ name: 'echo', node: 'node-1', state: 'running', version: 1 });
    expect(pool.deliver(message('echo', { sender: 'client:alice' }), 'echo')).toBe('queued');
    await pool.whenIdle();
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]).toMatchObject({ performative: 'inform', receiver: 'client:alice', content: 'pong', sender: 'echo' });
    expect(pool.stats('echo')).toMatchObject({ invocations: 1, messages_in: 1, messages_out: 1, traps: 0, mailbox_depth: 0 });
    // Workers start on demand: one agent, one worker.
    expect(pool.threadFigures().map((f) => f.thread)).toEqual(['worker-0']);
  });

  it('spreads agents over the workers and keeps sends between agents of one worker on it', async () => {
    const { pool, reports, deploy, sink } = makePool(2);
    // relay forwards to echo; echo answers relay's sender... relay here sends to echo, echo replies to relay.
    const relay = await agentModule((s) => ({
      handle: `(if (call $contains (local.get $ptr) (local.get $len) ${s('"go"')}) (then (drop (call $send ${s('{"performative":"request","receiver":"echo","content":"ping"}')})))) (i32.const 0)`,
    }));
    await deploy('echo', await echoAgent());
    await deploy('other', await echoAgent());
    await deploy('relay', relay);
    const figures = pool.threadFigures();
    expect(figures.map((f) => f.agents)).toEqual([2, 1]);
    pool.deliver(message('relay', { performative: 'inform', content: 'go' }), 'relay');
    await pool.whenIdle();
    // relay and echo are both on worker-0: the request stayed there, the reply too.
    expect(reports.routedMessages.map((r) => r.receiver).sort()).toEqual(['echo', 'relay']);
    expect(pool.stats('echo').invocations).toBe(1);
    expect(sink.messages).toHaveLength(0);
  });

  it('forwards tool calls to the main thread gateway; observer callbacks and log lines reach the main thread', async () => {
    const calls: unknown[] = [];
    const states: string[] = [];
    const logged: string[] = [];
    const { pool } = makePool(1, {
      toolGateway: {
        call: async (agent, server, tool, args) => {
          calls.push({ agent, server, tool, args });
          if (tool === 'boom') throw new CaxtonError('INVALID_ARGUMENT', 'no such key');
          return { structuredContent: { ok: true } };
        },
      },
      observer: {
        onStateChange: (agent, from, to) => states.push(`${agent}:${from}->${to}`),
        onLog: (line) => logged.push(`${line.agent}:${line.level}`),
      },
    });
    const bytes = await agentModule((s) => ({
      init: `
        (drop (call $call_tool ${s('{"server":"mem","tool":"store","arguments":{"key":"k"}}')}))
        (drop (call $call_tool ${s('{"server":"mem","tool":"boom"}')}))
        (i32.const 0)`,
      handle: '(call $log (i32.const 2) (local.get $ptr) (local.get $len)) (i32.const 0)',
    }));
    await pool.start(spec('a', { tools: { mem: '*' } }), sha(bytes), 1, bytes);
    await pool.whenIdle();
    expect(calls).toEqual([
      { agent: 'a', server: 'mem', tool: 'store', args: { key: 'k' } },
      { agent: 'a', server: 'mem', tool: 'boom', args: {} },
    ]);
    const received = pool.logs('a', 0, 10).map((l) => JSON.parse(l.message) as AclMessage);
    expect(received[0]).toMatchObject({ performative: 'inform', sender: 'tool:mem', in_reply_to: 'tool-1', content: { structuredContent: { ok: true } } });
    expect(received[1]).toMatchObject({ performative: 'failure', in_reply_to: 'tool-2', content: { error: { code: 'INVALID_ARGUMENT', message: 'no such key' } } });
    expect(states).toEqual(['a:null->deploying', 'a:deploying->running']);
    expect(logged).toEqual(['a:info', 'a:info']);
  });

  it('reports each timed invocation with its own duration, not the mean of a batch', async () => {
    const durations: number[] = [];
    const { pool } = makePool(1, {
      observer: {
        wantsDurations: true,
        onInvocation(_agent, kind, durationNs) {
          if (kind === 'message') durations.push(durationNs);
        },
      },
    });
    // Spins in proportion to the message's length: a long message takes ~15 times a short one.
    const bytes = await agentModule(() => ({
      handle: `(local $i i32)
        (local.set $i (i32.mul (local.get $len) (i32.const 50)))
        (loop $spin (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $spin (i32.gt_s (local.get $i) (i32.const 0))))
        (i32.const 0)`,
    }));
    await pool.start(spec('spinner'), sha(bytes), 1, bytes);
    const long = 'x'.repeat(4000);
    // All in one go: they run in one scheduler turn, and their figures leave in one batch.
    for (let i = 0; i < 40; i++) pool.deliver(message('spinner', { content: i % 2 === 0 ? 'x' : long }), 'spinner');
    await pool.whenIdle();
    expect(durations).toHaveLength(40);
    expect(Math.min(...durations)).toBeGreaterThan(0);
    // In the order they ran: short, long, short… Reported at a batch's mean, all 40 would be one value.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const shorts = durations.filter((_, i) => i % 2 === 0);
    const longs = durations.filter((_, i) => i % 2 === 1);
    expect(median(longs)).toBeGreaterThan(3 * median(shorts));
  });

  it('reports a batch of invocations in one call per kind and outcome to an observer that takes batches', async () => {
    const batches: { agent: string; kind: string; outcome: string; count: number; timed: number[] }[] = [];
    let single = 0;
    const { pool } = makePool(1, {
      observer: {
        wantsDurations: true,
        onInvocation() {
          single++;
        },
        onInvocations(agent, kind, outcome, count, timedNs) {
          batches.push({ agent, kind, outcome, count, timed: Array.from(timedNs) });
        },
      },
    });
    const bytes = await echoAgent();
    await pool.start(spec('echo'), sha(bytes), 1, bytes);
    for (let i = 0; i < 40; i++) pool.deliver(message('echo'), 'echo');
    await pool.whenIdle();
    const messages = batches.filter((b) => b.kind === 'message');
    expect(single).toBe(0);
    expect(messages.every((b) => b.agent === 'echo' && b.outcome === 'ok')).toBe(true);
    expect(messages.reduce((sum, b) => sum + b.count, 0)).toBe(40);
    // Each timed, each with its own duration; in fewer calls than invocations.
    expect(messages.flatMap((b) => b.timed)).toHaveLength(40);
    expect(messages.flatMap((b) => b.timed).every((ns) => ns > 0)).toBe(true);
    expect(messages.length).toBeLessThan(40);
  });

  it('bounds what waits for an agent as its mailbox does, and keeps order per sender across workers', async () => {
    const { pool, deploy, sink } = makePool(2);
    const bytes = await echoAgent();
    await pool.start(spec('small', { limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 2 } }), sha(bytes), 1, bytes);
    expect(pool.deliver(message('small'), 'small')).toBe('queued');
    expect(pool.deliver(message('small'), 'small')).toBe('queued');
    expect(pool.deliver(message('small'), 'small')).toBe('mailbox_full');
    await pool.whenIdle();
    expect(pool.deliver(message('small'), 'small')).toBe('queued');
    await pool.whenIdle();

    // A logger on the second worker records what it gets, in order, from a client through the main thread.
    const logger = await agentModule(() => ({ handle: '(call $log (i32.const 2) (local.get $ptr) (local.get $len)) (i32.const 0)' }));
    await deploy('log', logger);
    expect(pool.threadFigures().map((f) => f.agents)).toEqual([1, 1]);
    for (let i = 0; i < 200; i++) pool.deliver(message('log', { performative: 'inform', content: i }), 'log');
    await pool.whenIdle();
    const seen = pool.logs('log', 0, 1000).map((l) => (JSON.parse(l.message) as AclMessage).content);
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(sink.messages.filter((m) => m.receiver === 'client:alice')).toHaveLength(3);
  });

  it('answers queries while deploying, stops, restarts and removes agents', async () => {
    const { pool, deploy } = makePool(1);
    await deploy('echo', await echoAgent());
    await pool.stop('echo');
    expect(pool.state('echo')).toBe('stopped');
    expect(pool.deliver(message('echo'), 'echo')).toBe('unavailable');
    const bytes = await echoAgent();
    await pool.upgrade(spec('echo'), sha(bytes), 2, bytes);
    expect(pool.info('echo')).toMatchObject({ state: 'running', version: 2 });
    await pool.remove('echo');
    expect(pool.has('echo')).toBe(false);
    expect(pool.deliver(message('echo'), 'echo')).toBe('not_found');
  });

  it('refuses a module whose bytes do not match, and a duplicate name', async () => {
    const { pool, deploy } = makePool(1);
    const bytes = await echoAgent();
    await expect(pool.start(spec('x'), 'f'.repeat(64), 1, bytes)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(pool.has('x')).toBe(false);
    await deploy('echo', bytes);
    await expect(deploy('echo', bytes)).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('replaces a worker stuck in one invocation: in-flight messages are answered, its agents start again', async () => {
    // Unmetered: nothing stops the loop but the watchdog.
    const { ModuleCache } = await import('../../../src/agents/module-cache.ts');
    const { pool, reports, deploy, sink } = makePool(1, { stallMs: 300, cache: ModuleCache.unmetered() });
    const stuck = await agentModule(() => ({ handle: `(loop $forever (br $forever)) (i32.const 0)` }));
    await deploy('stuck', stuck);
    await deploy('echo', await echoAgent());
    pool.deliver(message('stuck'), 'stuck');
    pool.deliver(message('echo', { content: 'queued behind' }), 'echo');
    // Replacing takes a worker start (a few seconds on a loaded machine).
    for (let i = 0; i < 600 && reports.losses.length < 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(reports.losses.map((l) => l.receiver).sort()).toEqual(['echo', 'stuck']);
    expect(reports.losses[0].text).toMatch(/restarted/);
    // Started again on the replacement: it takes messages once its start is done (until then a delivery is
    // refused as 'unavailable', which the router answers; it is never lost).
    let outcome = pool.deliver(message('echo', { sender: 'client:bob' }), 'echo');
    for (let i = 0; i < 600 && outcome !== 'queued'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      outcome = pool.deliver(message('echo', { sender: 'client:bob' }), 'echo');
    }
    expect(outcome).toBe('queued');
    expect(pool.state('echo')).toBe('running');
    expect(pool.threadFigures()[0].restarts).toBe(1);
    await pool.whenIdle();
    expect(sink.messages.some((m) => m.receiver === 'client:bob' && m.content === 'pong')).toBe(true);
  }, 90_000);
});
