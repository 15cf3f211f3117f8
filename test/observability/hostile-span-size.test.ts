// Span names and attribute values quote what agents and clients chose: a tool name an agent asks for may be
// as long as a message (a tool relay asks for whatever a client sent). Before, a 1 MB tool name made a span
// of 2 MB (name and attribute), and telemetry.max_queued_spans of them were held until export.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ATTRIBUTE_VALUE_CHARS, MAX_SPAN_NAME_CHARS, NodeTracing } from '../../src/observability/tracing.ts';
import { OtlpReceiver } from '../helpers/otlp-receiver.ts';

const receiver = new OtlpReceiver();
let tracing: NodeTracing;

beforeAll(async () => {
  await receiver.start();
  tracing = new NodeTracing({ endpoint: receiver.url, samplingRatio: 1, serviceName: 'caxton', nodeId: 'n1', version: 'test', maxQueuedSpans: 16, exportIntervalMs: 60_000 });
});
afterAll(async () => {
  await tracing.shutdown();
  await receiver.stop();
});

describe('span size', () => {
  it('a tool call span with a 1 MB tool name is cut to the bounds', async () => {
    const traceId = randomBytes(16).toString('hex');
    const tool = 't'.repeat(1_000_000);
    tracing.startToolCall('relay', 'files', tool, `00-${traceId}-${randomBytes(8).toString('hex')}-01`)!.end('ok');
    tracing.recordFinished({
      kind: 'client',
      name: `caxton.tool_call files/${tool}`,
      parent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      spanId: randomBytes(8).toString('hex'),
      attributes: { 'caxton.tool.name': tool },
      startMs: Date.now() - 1,
      endMs: Date.now(),
      outcome: 'ok',
    });
    await tracing.flush();
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.name.length).toBe(MAX_SPAN_NAME_CHARS);
      expect(span.name.startsWith('caxton.tool_call files/ttt')).toBe(true);
      expect(span.name.endsWith('…')).toBe(true);
      expect(String(span.attributes['caxton.tool.name']).length).toBe(MAX_ATTRIBUTE_VALUE_CHARS);
    }
  });
});
