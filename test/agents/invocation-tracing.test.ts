// The runtime's half of tracing: an invocation of a traced message opens a span (through the injected
// InvocationTracer), the messages and tool calls it makes carry that span as their parent, a tool result
// continues the tool call's span, and a trace not recorded is passed on unchanged. Tool calls are reported
// to the observer at the gateway boundary (server, outcome, duration) whether traced or not.
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import type { InvocationTracer, TraceScope } from '../../src/agents/invocation-tracer.ts';
import { message, setup, toolCallingAgent } from './fixtures.ts';

const SAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UNSAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

class RecordingTracer implements InvocationTracer {
  readonly spans: { kind: string; name: string; parent: string; traceparent: string; outcome?: string }[] = [];
  #n = 0;
  #open(kind: string, name: string, parent: string): TraceScope {
    const traceparent = `00-4bf92f3577b34da6a3ce929d0e0e4736-${String(++this.#n).padStart(16, 'a')}-01`;
    const span: (typeof this.spans)[number] = { kind, name, parent, traceparent };
    this.spans.push(span);
    return { traceparent, end: (outcome) => void (span.outcome = outcome) };
  }
  startInvocation(agent: string, m: { trace_context?: { traceparent: string } }): TraceScope | undefined {
    const parent = m.trace_context?.traceparent;
    if (parent === undefined || parent.endsWith('-00')) return undefined;
    return this.#open('invoke', agent, parent);
  }
  startToolCall(_agent: string, server: string, tool: string, parent: string): TraceScope | undefined {
    if (parent.endsWith('-00')) return undefined;
    return this.#open('tool', `${server}/${tool}`, parent);
  }
}

const toolAgent = toolCallingAgent;

describe('tracing in the runtime', () => {
  it('sends and tool calls of a traced invocation are its children; the tool result continues the tool span', async () => {
    const tracer = new RecordingTracer();
    const settled: unknown[][] = [];
    const env = setup({
      tracer,
      toolGateway: { call: async () => ({ content: [] }) },
      observer: { onToolCall: (...args) => void settled.push(args) },
    });
    await env.deploy('a', await toolAgent(), { tools: { mem: '*' } });
    env.runtime.deliver(message('a', { performative: 'inform', trace_context: { traceparent: SAMPLED } }), 'a');
    await env.runtime.whenIdle();
    const [invoke, tool, second] = tracer.spans;
    expect(invoke).toMatchObject({ kind: 'invoke', name: 'a', parent: SAMPLED, outcome: 'ok' });
    expect(tool).toMatchObject({ kind: 'tool', name: 'mem/get', parent: invoke.traceparent, outcome: 'ok' });
    // The tool result is handled as a child of the tool call's span.
    expect(second).toMatchObject({ kind: 'invoke', name: 'a', parent: tool.traceparent });
    expect(env.sink.messages.map((m) => m.trace_context?.traceparent)).toEqual([invoke.traceparent, second.traceparent]);
    expect(settled).toEqual([['a', 'mem', 'get', expect.any(Number), 'ok']]);
  });

  it('a trace not recorded is carried on unchanged: no span, same traceparent on the sends', async () => {
    const tracer = new RecordingTracer();
    const env = setup({ tracer, toolGateway: { call: async () => { throw new CaxtonError('UNAVAILABLE', 'down'); } } });
    await env.deploy('a', await toolAgent(), { tools: { mem: '*' } });
    env.runtime.deliver(message('a', { performative: 'inform', trace_context: { traceparent: UNSAMPLED } }), 'a');
    await env.runtime.whenIdle();
    expect(tracer.spans).toEqual([]);
    expect(env.sink.messages.map((m) => m.trace_context?.traceparent)).toEqual([UNSAMPLED, UNSAMPLED]);
  });

  it('without a tracer no span is made: a trace begun elsewhere is carried on unchanged, and tool outcomes still reach the observer', async () => {
    const settled: unknown[][] = [];
    const env = setup({
      toolGateway: { call: async () => { throw new CaxtonError('UNAVAILABLE', 'down'); } },
      observer: { onToolCall: (...args) => void settled.push(args) },
    });
    await env.deploy('a', await toolAgent(), { tools: { mem: '*' } });
    env.runtime.deliver(message('a', { performative: 'inform', trace_context: { traceparent: SAMPLED } }), 'a');
    await env.runtime.whenIdle();
    expect(env.sink.messages.map((m) => m.trace_context?.traceparent)).toEqual([SAMPLED, SAMPLED]);
    expect(settled).toEqual([['a', 'mem', 'get', expect.any(Number), 'UNAVAILABLE']]);
    // A message with no trace gets none.
    env.sink.messages.length = 0;
    env.runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await env.runtime.whenIdle();
    expect(env.sink.messages.map((m) => m.trace_context)).toEqual([undefined, undefined]);
  });
});
