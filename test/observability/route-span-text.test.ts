// With tracing on, the route span replaces the trace_context an agent's send carried (the invocation's): the
// text the receiving agent gets must carry the route span's too, not the agent's kept text with the old one.
import { describe, expect, it } from 'vitest';
import { rememberSpliced, spliceIndex, wireTextOf } from '../../src/messaging/wire-text.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { NodeTracing } from '../../src/observability/tracing.ts';

describe('the route span and an agent send kept as text', () => {
  it('the receiver is delivered the route span as its trace_context', () => {
    const tracing = new NodeTracing({ endpoint: 'http://127.0.0.1:9', samplingRatio: 1, serviceName: 'caxton', nodeId: 'n1', version: 'test', maxQueuedSpans: 16, exportIntervalMs: 60_000, onExportError: () => {} });
    const invocation = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const text = '{"performative":"inform","receiver":"b","content":1}';
    const message = JSON.parse(text) as AclMessage;
    Object.assign(message, { sender: 'a', message_id: 'm1', conversation_id: 'm1', trace_context: { traceparent: invocation } });
    rememberSpliced(message, text, spliceIndex(message, text), `,"sender":"a","message_id":"m1","conversation_id":"m1","trace_context":{"traceparent":"${invocation}"}`, true);
    const delivered = tracing.route(message, (m) => JSON.parse(wireTextOf(m, false)) as AclMessage);
    const routeSpan = message.trace_context!.traceparent;
    expect(routeSpan).not.toBe(invocation);
    expect(routeSpan.split('-')[1]).toBe(invocation.split('-')[1]);
    expect(delivered.trace_context).toEqual({ traceparent: routeSpan });
  });
});
