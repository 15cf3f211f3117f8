// The SDK's Message API and host services, run inside wasm through the probe agent and the mini host.
import { beforeEach, describe, expect, it } from 'vitest';
import { foreignImports, type MiniHost } from './mini-host.ts';
import { ask, probeBytes, probeHost } from './probe-agent.ts';

let host: MiniHost;
beforeEach(async () => {
  host = await probeHost();
});

describe('the module', () => {
  it('imports only caxton functions, though it uses abort, trace and Math.random', async () => {
    expect(foreignImports(await probeBytes())).toEqual([]);
  });
});

describe('incoming messages', () => {
  it('expose every field', () => {
    const { replies } = host.exchange({
      performative: 'request', sender: 'alice', receiver: ['probe-agent', 'capability:x'], content: { op: 'fields' },
      language: 'json', ontology: 'shop', protocol: 'fipa-request', conversation_id: 'c-1', reply_with: 'rw-1',
      in_reply_to: 'irt-0', reply_by: '2030-01-01T00:00:00Z', message_id: 'm-1', trace_context: { traceparent: '00-ab-cd-01' },
    });
    expect(replies[0].content).toEqual({
      performative: 'request', sender: 'alice', receiver: 'probe-agent', receivers: 2, hasContent: true, language: 'json',
      ontology: 'shop', protocol: 'fipa-request', conversationId: 'c-1', replyWith: 'rw-1', inReplyTo: 'irt-0',
      replyBy: '2030-01-01T00:00:00Z', messageId: 'm-1', traceContext: { traceparent: '00-ab-cd-01' }, expectsReply: true,
    });
  });

  it('are read field by field as JSON.parse reads them: escaped keys, the last of a repeated key, unknown keys skipped', () => {
    const fieldsOf = (text: string): unknown => {
      expect(host.deliverBytes(new TextEncoder().encode(text))).toBe(0);
      return host.sent.at(-1)?.content;
    };
    const seen = fieldsOf(
      '{"\\u0070erformative":"query-if","sender":"a","sender":"b\\"q","extra":{"x":[1,{"y":"}"}]},"receiver":"r1",'
      + '"receiver":["r2",7,"r3"],"content":{"op":"fields"},"message_id":"m\\u00e9","trace_context":null,"protocol":5}',
    );
    expect(seen).toMatchObject({
      performative: 'query-if', sender: 'b"q', receiver: 'r2', receivers: 3, messageId: 'm\u00e9', protocol: '',
      traceContext: null, hasContent: true, expectsReply: true,
    });
    // A performative that is no FIPA name still reads as given.
    expect(fieldsOf('{"performative":"request-when","content":{"op":"fields"}}')).toMatchObject({ performative: 'request-when', expectsReply: false });
  });

  it('with a malformed envelope are refused with -1: trailing text, a non-string performative last, a bad key', () => {
    for (const text of [
      '{"performative":"request"} x',
      '{"performative":"request","performative":1}',
      '{"performative":"request",}',
      '{"performative":"request" "sender":"a"}',
      '{performative:"request"}',
      '{"performative":"request","sender":"a\\x"}',
      '["performative","request"]',
      '{"performative":"request","extra":[1,2}',
    ]) {
      expect(host.deliverBytes(new TextEncoder().encode(text)), text).toBe(-1);
    }
    expect(host.sent).toEqual([]);
  });

  it('that are not JSON are refused with -1 and an error log', () => {
    expect(host.deliverBytes(new TextEncoder().encode('{"performative": oops'))).toBe(-1);
    expect(host.deliverBytes(new TextEncoder().encode('{"receiver":"x"}'))).toBe(-1);
    expect(host.logs.at(-1)?.level).toBe(4);
    expect(host.sent).toEqual([]);
  });
});

describe('replies', () => {
  it('go to the sender, in the same conversation and protocol, in reply to reply_with', () => {
    const { replies } = host.exchange({
      performative: 'request', sender: 'alice', content: { op: 'inspect', value: 1 }, protocol: 'fipa-request',
      conversation_id: 'c-9', reply_with: 'rw-9', message_id: 'm-9',
    });
    expect(replies[0]).toMatchObject({ performative: 'inform', receiver: 'alice', conversation_id: 'c-9', in_reply_to: 'rw-9', protocol: 'fipa-request' });
  });

  it('answer message_id when there is no reply_with, and leave host fields to the host', () => {
    const { replies } = host.exchange({ performative: 'request', sender: 'bob', content: { op: 'inspect', value: 1 }, message_id: 'm-7' });
    expect(replies[0]).toMatchObject({ receiver: 'bob', in_reply_to: 'm-7' });
    const raw = JSON.parse(host.rawSent.at(-1)!) as Record<string, unknown>;
    expect(raw).not.toHaveProperty('sender');
    expect(raw).not.toHaveProperty('message_id');
    expect(raw).not.toHaveProperty('protocol');
  });
});

describe('building and sending', () => {
  it('writes every optional field, and a receiver list as an array', () => {
    const { replies } = host.exchange({ performative: 'request', content: { op: 'send-full' }, reply_with: 'r' });
    expect(host.rawSent[0]).toBe('{"performative":"cfp","receiver":["alice","capability:pricing"],"content":{"task":"paint","max":12.5},'
      + '"language":"json","ontology":"shop","protocol":"fipa-contract-net","conversation_id":"conv-1","reply_with":"rw-1",'
      + '"in_reply_to":"irt-1","reply_by":"2030-01-01T00:00:00Z"}');
    expect(replies[1]).toMatchObject({ performative: 'agree', in_reply_to: 'r', content: 0 });
  });
});

describe('host services', () => {
  it('name, clock, randomness, timers and tool calls reach the host', () => {
    const before = Date.now() * 1000;
    const answer = ask(host, { op: 'services' }) as Record<string, number | string | boolean>;
    expect(answer).toMatchObject({
      name: 'probe-agent', nameAgain: 'probe-agent', randomLength: 16, timer: 1, cancel: 0, cancelUnknown: -5, timer2: 2,
      tool: 1, toolWith: 2, toolBad: -1, initialized: true, handled: 1,
    });
    expect(answer.now as number).toBeGreaterThanOrEqual(before);
    expect(answer.now as number).toBeLessThan(before + 60_000_000);
    expect(host.timers).toEqual(new Map([[2, 10]]));
    expect(host.toolCalls).toEqual([
      { server: 'state', tool: 'get', arguments: { key: 'a', n: [1, 2] } },
      { server: 'state', tool: 'put', arguments: { key: 'b' } },
    ]);
    expect(host.logs).toContainEqual({ level: 2, text: 'probe ready' });
    expect(host.logs).toContainEqual({ level: 3, text: 'services called by client:test' });
  });

  it('names longer than the first buffer are read whole', async () => {
    const long = `a${'b'.repeat(62)}`;
    const named = await probeHost(long);
    expect(ask(named, { op: 'services' })).toMatchObject({ name: long });
  });

  it('timers fire into handle_timer', () => {
    host.fireTimer(3);
    expect(host.sent).toEqual([expect.objectContaining({ performative: 'inform', receiver: 'timer-watcher', content: { timer: 3 } })]);
  });

  it('tool results are recognised with their call id', () => {
    const { replies } = host.exchange({ performative: 'inform', sender: 'tool:state', in_reply_to: 'tool-7', content: { content: [] } });
    expect(replies[0].content).toEqual({ toolCallId: 7, result: { content: [] } });
  });
});

describe('errors', () => {
  it('fail(code) makes handle_message return the code', () => {
    expect(host.deliver({ performative: 'request', content: { op: 'fail', code: 7 } })).toBe(7);
    expect(host.deliver({ performative: 'request', content: { op: 'fail', code: 0 } })).toBe(1);
    expect(host.deliver({ performative: 'request', content: { op: 'roundtrip', text: '1' } })).toBe(0);
  });

  it('an abort logs where and why, then traps', () => {
    expect(() => host.deliver({ performative: 'request', content: { op: 'abort' } })).toThrow(WebAssembly.RuntimeError);
    const last = host.logs.at(-1)!;
    expect(last.level).toBe(4);
    expect(last.text).toMatch(/^abort: probe asked to abort at sdk\/assemblyscript\/tests\/probe\.ts:\d+:\d+$/);
  });

  it('trace() logs at debug level', () => {
    ask(host, { op: 'trace' });
    expect(host.logs).toContainEqual({ level: 1, text: 'traced 1.5, 2' });
  });
});

describe('memory', () => {
  it('stays flat over many messages that each make garbage (the collector runs between messages)', () => {
    for (let i = 0; i < 20; i++) ask(host, { op: 'grow' });
    const settled = host.memory.buffer.byteLength;
    for (let i = 0; i < 200; i++) ask(host, { op: 'grow' });
    expect(host.memory.buffer.byteLength).toBe(settled);
  });

  it('returns a large message buffer after use and keeps working', () => {
    const big = 'x'.repeat(1_000_000);
    expect(ask(host, { op: 'roundtrip', text: JSON.stringify(big) })).toEqual({ ok: true, out: JSON.stringify(big) });
    for (let i = 0; i < 50; i++) ask(host, { op: 'inspect', value: i });
    expect(ask(host, { op: 'inspect', value: 'ok' })).toMatchObject({ string: 'ok' });
  });

  it('agent_alloc refuses a negative length with 0', async () => {
    const exports = (host as unknown as { exports: { agent_alloc: (n: number) => number } }).exports;
    expect(exports.agent_alloc(-1)).toBe(0);
    expect(exports.agent_alloc(0)).toBeGreaterThan(0);
  });
});
