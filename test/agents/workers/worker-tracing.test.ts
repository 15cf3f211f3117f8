// Tracing with agents on a worker thread: an invocation of a traced message makes a span there, its sends and
// tool calls carry it as their parent, and the main thread's recorder gets each finished span with the id its
// children carry. A send under a sampled trace leaves the worker for the router (which makes its route span
// on a real node) even when its receiver runs on the same worker. A real pool, a real worker.
import { afterEach, describe, expect, it } from 'vitest';
import type { FinishedSpan } from '../../../src/agents/invocation-tracer.ts';
import { AgentWorkerPool } from '../../../src/agents/workers/agent-worker-pool.ts';
import { agentModule, message, RecordingSink, recordingRouter, sha, spec, toolCallingAgent } from '../fixtures.ts';

const SAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UNSAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

const quiet = () => agentModule(() => ({ handle: '(i32.const 0)' }));

const pools: AgentWorkerPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.shutdown();
});

async function tracedPool() {
  const spans: FinishedSpan[] = [];
  const sink = new RecordingSink();
  const pool: AgentWorkerPool = new AgentWorkerPool({
    nodeId: 'node-1',
    workers: 1,
    sink: recordingRouter(sink, () => pool),
    reports: { routed() {}, routedCount() {}, refused() {}, lost() {} },
    toolGateway: { call: async () => ({ content: [] }) },
    spans: { recordFinished: (span) => void spans.push(span) },
  });
  pools.push(pool);
  const a = await toolCallingAgent();
  const b = await quiet();
  await pool.start(spec('a', { tools: { mem: '*' } }), sha(a), 1, a);
  await pool.start(spec('b'), sha(b), 1, b);
  return { pool, sink, spans };
}

const traceparentOf = (span: FinishedSpan) => `00-${span.parent.slice(3, 35)}-${span.spanId}-01`;

describe('tracing with agents on a worker', () => {
  it('records the invocation and tool-call spans the worker made, with the ids their children carry', async () => {
    const { pool, sink, spans } = await tracedPool();
    const before = Date.now();
    pool.deliver(message('a', { performative: 'inform', trace_context: { traceparent: SAMPLED } }), 'a');
    await pool.whenIdle();
    const invokeA = spans.filter((s) => s.name === 'caxton.invoke a');
    const tool = spans.find((s) => s.name === 'caxton.tool_call mem/get');
    expect(invokeA).toHaveLength(2);
    expect(invokeA[0]).toMatchObject({ kind: 'consumer', parent: SAMPLED, outcome: 'ok', attributes: { 'caxton.agent': 'a', 'caxton.performative': 'inform' } });
    expect(tool).toMatchObject({ kind: 'client', parent: traceparentOf(invokeA[0]), outcome: 'ok' });
    // The tool's result is handled as a child of the tool call's span.
    expect(invokeA[1].parent).toBe(traceparentOf(tool!));
    // Both sends to b went through the router (b runs on the same worker), each a child of the invocation that made it.
    const toB = sink.messages.filter((m) => m.receiver === 'b');
    expect(toB.map((m) => m.trace_context?.traceparent)).toEqual([traceparentOf(invokeA[0]), traceparentOf(invokeA[1])]);
    // b's invocations are spans too, children of what they handled.
    expect(spans.filter((s) => s.name === 'caxton.invoke b').map((s) => s.parent)).toEqual(toB.map((m) => m.trace_context?.traceparent));
    for (const span of spans) {
      expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(span.startMs).toBeGreaterThanOrEqual(before - 1000);
      expect(span.endMs).toBeGreaterThanOrEqual(span.startMs);
    }
  });

  it('a trace not recorded makes no span and stays on the worker', async () => {
    const { pool, sink, spans } = await tracedPool();
    pool.deliver(message('a', { performative: 'inform', trace_context: { traceparent: UNSAMPLED } }), 'a');
    await pool.whenIdle();
    expect(spans).toEqual([]);
    expect(sink.messages.filter((m) => m.receiver === 'b')).toEqual([]);
    expect(pool.threadFigures()[0].messages_local).toBe(2);
  });
});
