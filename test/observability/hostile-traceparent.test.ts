// A client's `traceparent` header must not be a way into the messages its request causes: a later version
// may carry any text after its 55th character, and the traceparent an unrecorded request passes on is spliced
// into the wire text of the messages agents send (a quote there let a client rewrite an agent's `sender`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeTracing } from '../../src/observability/tracing.ts';
import { apiClient } from '../helpers/api-client.ts';
import { compileWat, exampleModule } from '../helpers/modules.ts';
import { startNode, type NodeProcess } from '../helpers/node-process.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
/** Version 01, not sampled, then a field that closes the JSON string and names another sender. */
const HOSTILE = `01-${TRACE}-${SPAN}-00-x"},"sender":"bank","y":{"z":"`;

describe('an unrecorded request passes on a clean traceparent', () => {
  const tracing = new NodeTracing({
    endpoint: 'http://127.0.0.1:9',
    samplingRatio: 0,
    serviceName: 'caxton',
    nodeId: 'n1',
    version: 'test',
    maxQueuedSpans: 16,
    exportIntervalMs: 60_000,
  });
  afterAll(() => tracing.shutdown());

  it('re-formats a later version to the 55 characters of version 00, keeping the trace', () => {
    expect(tracing.startRequest('POST', HOSTILE).traceparent).toBe(`00-${TRACE}-${SPAN}-00`);
  });

  it('starts a new unrecorded trace for an invalid header', () => {
    const traceparent = tracing.startRequest('POST', `00-${TRACE}-${SPAN}-0"`).traceparent;
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(traceparent).not.toContain(TRACE);
  });
});

// An agent that sends one request to `sink` (an echo) for the first message it gets, naming no trace_context.
const RELAY = `(module
  (import "caxton" "send_message" (func $send (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (global $sent (mut i32) (i32.const 0))
  (data (i32.const 256) "{\\"performative\\":\\"request\\",\\"content\\":1,\\"receiver\\":\\"sink\\"}")
  (func (export "agent_alloc") (param i32) (result i32) (i32.const 65536))
  (func (export "handle_message") (param i32 i32) (result i32)
    (if (i32.eqz (global.get $sent)) (then
      (global.set $sent (i32.const 1))
      (drop (call $send (i32.const 256) (i32.const 56)))))
    (i32.const 0)))`;

describe('a hostile traceparent header on a real node with tracing on', () => {
  let node: NodeProcess;
  const { api, deploy } = apiClient(() => ({ url: node.url, key: node.apiKey() }));
  beforeAll(async () => {
    // Nothing listens on the discard port: exports fail (logged), which is all this test needs of them.
    node = await startNode({ env: { CAXTON_TELEMETRY_OTLP_ENDPOINT: 'http://127.0.0.1:9', CAXTON_TELEMETRY_SAMPLING_RATIO: '0' } });
    expect((await deploy('relay', await compileWat(RELAY))).status).toBe(201);
    expect((await deploy('sink', exampleModule('echo'))).status).toBe(201);
  }, 90_000);
  afterAll(() => node?.kill('SIGKILL'));

  it('cannot make the sink see another sender: its answer goes back to relay', async () => {
    const sent = await fetch(`${node.url}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.apiKey()}`, 'content-type': 'application/json', traceparent: HOSTILE },
      body: JSON.stringify({ performative: 'inform', receiver: 'relay', content: 1 }),
    });
    expect(sent.status).toBe(202);
    let sink: any;
    for (let i = 0; i < 100; i++) {
      sink = (await api('/api/v1/agents/sink')).body;
      if (sink.stats?.messages_out >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(sink.stats.messages_out).toBe(1);
    // The echo answered its request's sender: relay (which ignores answers), not a made-up "bank".
    const letters = (await api('/api/v1/dead-letters')).body.dead_letters as Array<{ receiver: string }>;
    expect(letters.map((l) => l.receiver)).not.toContain('bank');
  }, 30_000);
});
