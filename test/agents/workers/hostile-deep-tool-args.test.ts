// call_tool arguments nested thousands deep: refused like a message's content (-1). On an agent worker such a
// call left the worker, but the main thread could not rebuild the batch it was in (a 'messageerror'), and every
// other report of that batch (sends of other agents, `taken` marks) was lost with it, silently.
import { afterEach, describe, expect, it } from 'vitest';
import { AgentWorkerPool } from '../../../src/agents/workers/agent-worker-pool.ts';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { agentModule, echoAgent, message, RecordingSink, setup, sha, spec } from '../fixtures.ts';

const deepCall = (depth: number) =>
  `{"server":"mem","tool":"get","arguments":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;

const pools: AgentWorkerPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.shutdown();
});

describe('call_tool arguments depth', () => {
  it('refuses arguments nested deeper than message content may be (-1), naming why', async () => {
    const env = setup();
    const bytes = await agentModule((s) => ({
      handle: `(if (i32.eqz (call $contains (local.get $ptr) (local.get $len) ${s('"tool:mem"')}))
        (then (call $report ${s('deep')} (call $call_tool ${s(deepCall(5_000))})))) (i32.const 0)`,
    }));
    await env.deploy('a', bytes, { tools: { mem: '*' } });
    env.runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await env.runtime.whenIdle();
    expect(env.logText('a')).toEqual([expect.stringContaining('call_tool refused: arguments: nested deeper than 128'), 'deep=-1']);
  });

  it('a deep tool call on a worker does not take another agent\'s reply with it', async () => {
    const sink = new RecordingSink();
    const reports = { routed() {}, routedCount() {}, refused() {}, lost() {} };
    let pool: AgentWorkerPool | undefined;
    const router = { route: (m: AclMessage) => (pool!.has(m.receiver as string) ? void pool!.deliver(m, m.receiver as string) : sink.route(m)) };
    pool = new AgentWorkerPool({ nodeId: 'n', workers: 1, sink: router, reports });
    pools.push(pool);
    const deep = await agentModule((s) => ({
      handle: `(if (call $contains (local.get $ptr) (local.get $len) ${s('"tool:mem"')}) (then (return (i32.const 0))))
        (drop (call $call_tool ${s(deepCall(5_000))}))
        (drop (call $send ${s('{"performative":"inform","receiver":"client:zed","content":"after"}')})) (i32.const 0)`,
    }));
    const echo = await echoAgent();
    await pool.start(spec('d', { tools: { mem: '*' } }), sha(deep), 1, deep);
    await pool.start(spec('e'), sha(echo), 1, echo);
    pool.deliver(message('d', { performative: 'inform' }), 'd');
    pool.deliver(message('e', { sender: 'client:bob' }), 'e');
    await pool.whenIdle();
    // Before: neither message left the worker, and nothing said so.
    expect(sink.messages.map((m) => `${m.sender}:${JSON.stringify(m.content)}`).sort()).toEqual(['d:"after"', 'e:"pong"']);
  });
});
