// The text an agent receives for another agent's send: the sender's own JSON with the host's fields
// spliced in when that is exact, a fresh serialization otherwise. Either way it must parse to exactly the
// routed message, with no key repeated.
import { describe, expect, it } from 'vitest';
import type { HostBindings } from '../../src/agents/host-imports.ts';
import { InstanceHost } from '../../src/agents/host-imports.ts';
import { RUNTIME_DEFAULTS } from '../../src/agents/runtime-defaults.ts';
import { knownWireTextOf, messageOfWireText, wireByteLengthOf, wireTextOf } from '../../src/messaging/wire-text.ts';
import { historyTextOf } from '../../src/state/history-text.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { agentModule, setup } from './fixtures.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function hostFor(name: string): { host: InstanceHost; send: (text: string | Buffer) => number } {
  const bindings: HostBindings = {
    agentName: name,
    limits: { ...RUNTIME_DEFAULTS },
    timers: { set: () => 0, clear() {} },
    now: () => 0,
    log() {},
    toolGranted: () => false,
    permissionDenied() {},
    nextToolCallId: () => 1,
    pendingToolCalls: () => 0,
    timerFired() {},
    sends: { take: () => true },
  };
  const host = new InstanceHost(bindings);
  const memory = new WebAssembly.Memory({ initial: 1 });
  host.attachMemory(memory);
  const sendMessage = host.caxtonImports().send_message as (ptr: number, len: number) => number;
  const send = (text: string | Buffer) => {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    new Uint8Array(memory.buffer).set(bytes, 64);
    return sendMessage(64, bytes.length);
  };
  return { host, send };
}

/** The top-level keys of a JSON object text, in order, duplicates kept (a small tokenizer with escapes). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let keyNext = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && keyNext) {
        keys.push(JSON.parse(text.slice(i, j + 1)) as string);
        keyNext = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1) keyNext = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) keyNext = true;
  }
  return keys;
}

/** Sends `text` as agent `a`; returns the stamped message and the text a receiver would get. */
function deliveredFor(text: string | Buffer): { message: AclMessage; wire: string } {
  const { host, send } = hostFor('a');
  expect(send(text)).toBe(0);
  const message = host.outbox[0];
  const wire = wireTextOf(message, false);
  const bytes = wireByteLengthOf(message);
  if (bytes !== -1) expect(bytes).toBe(Buffer.byteLength(wire));
  return { message, wire };
}

function expectExact(message: AclMessage, wire: string): void {
  expect(JSON.parse(wire)).toEqual(message);
  const keys = topLevelKeys(wire);
  expect(new Set(keys).size).toBe(keys.length);
  expect(keys.sort()).toEqual(Object.keys(message).sort());
}

describe('the text delivered for an agent send', () => {
  it('is the agent text with sender, message_id and conversation_id spliced in', () => {
    const text = '{"performative":"request","receiver":"b","content":{"x":[1,"y",{"z":null}]}}';
    const { message, wire } = deliveredFor(text);
    expect(message.message_id).toMatch(UUID);
    expect(message.conversation_id).toBe(message.message_id);
    expect(wire).toBe(`${text.slice(0, -1)},"sender":"a","message_id":"${message.message_id}","conversation_id":"${message.message_id}"}`);
    expect(wireByteLengthOf(message)).toBe(wire.length);
    expectExact(message, wire);
  });

  it('keeps a conversation_id the agent chose, once; drops whitespace after the closing brace', () => {
    const { message, wire } = deliveredFor(' { "performative" : "inform", "receiver" : ["b","c"], "conversation_id" : "c-1" } \n');
    expect(message.conversation_id).toBe('c-1');
    expect(wire).toBe(` { "performative" : "inform", "receiver" : ["b","c"], "conversation_id" : "c-1" ,"sender":"a","message_id":"${message.message_id}"}`);
    expectExact(message, wire);
  });

  it('knows the UTF-8 length only for ASCII text, and is exact either way', () => {
    const { message, wire } = deliveredFor('{"performative":"inform","receiver":"b","content":"héllo ✓ 😀"}');
    expect(wire.startsWith('{"performative":"inform","receiver":"b","content":"héllo ✓ 😀","sender":"a"')).toBe(true);
    expect(wireByteLengthOf(message)).toBe(-1);
    expectExact(message, wire);
    // A byte that is not UTF-8 arrives as U+FFFD: as many characters as bytes, yet not ASCII.
    const bad = Buffer.concat([Buffer.from('{"performative":"inform","receiver":"b","content":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    const replaced = deliveredFor(bad);
    expect(replaced.message.content).toBe('\uFFFD');
    expect(wireByteLengthOf(replaced.message)).toBe(-1);
    expectExact(replaced.message, replaced.wire);
  });

  it('is serialized afresh when splicing could repeat a key or must replace one', () => {
    const cases = [
      '{"performative":"inform","receiver":"b","receiver":"c"}', // a repeated key: the last one wins, once
      '{"performative":"inform","receiver":"b","sender":"mallory"}', // the host replaces sender
      '{"performative":"inform","receiver":"b","message_id":"mine"}', // and message_id
      '{"performative":"inform","receiver":"b","content":"say \\"hi\\""}', // an escape
      '{"performative":"inform","\\u0072eceiver":"b"}', // a key spelled with an escape
      '{"performative":"inform","receiver":"b","content":{"receiver":"x","performative":"y"}}', // nested look-alikes
    ];
    for (const text of cases) {
      const { message, wire } = deliveredFor(text);
      expect(message.sender).toBe('a');
      expect(message.message_id).toMatch(UUID);
      expectExact(message, wire);
    }
    expect(deliveredFor(cases[0]).message.receiver).toBe('c');
  });

  it('is kept for the next receiver of a message sent to several', () => {
    const message: AclMessage = { performative: 'inform', sender: 'x', receiver: ['a', 'b'], message_id: 'm', conversation_id: 'c' };
    const first = wireTextOf(message, true);
    expect(wireTextOf(message, true)).toBe(first);
    // A copy made with spread does not carry the text: changed, it is serialized again.
    const copy = { ...message, receiver: 'z' };
    expect(JSON.parse(wireTextOf(copy, false)).receiver).toBe('z');
    expect(Object.keys(message)).toEqual(['performative', 'sender', 'receiver', 'message_id', 'conversation_id']);
  });

  it('crosses to another thread as the text alone: the same message there, its text known', () => {
    for (const sent of ['{"performative":"request","receiver":"client:x","content":{"n":[1,2]}}', '{"performative":"inform","receiver":"b","content":"näive ✓"}']) {
      const { message, wire } = deliveredFor(sent);
      const there = messageOfWireText(wire, wireByteLengthOf(message));
      expect(there).toEqual(message);
      expect(knownWireTextOf(there)).toBe(wire);
      expect(wireByteLengthOf(there)).toBe(wireByteLengthOf(message));
      // The conversation history stores that text rather than serializing the message again.
      expect(historyTextOf(there)).toBe(wire);
    }
  });

  it('arrives byte for byte in the receiving agent', async () => {
    const sent = '{"performative":"inform","receiver":"b","content":"näive ✓"}';
    const sender = await agentModule((s) => ({ handle: `(drop (call $send ${s(sent)})) (i32.const 0)` }));
    const logger = await agentModule(() => ({ handle: '(call $log (i32.const 1) (local.get $ptr) (local.get $len)) (i32.const 0)' }));
    const env = setup();
    const runtime = env.runtime;
    // Route the runtime's sends back into it, as the router does for local agents.
    env.sink.route = (m: AclMessage) => {
      env.sink.messages.push(m);
      runtime.deliver(m, m.receiver as string);
    };
    await env.deploy('a', sender);
    await env.deploy('b', logger);
    runtime.deliver({ performative: 'inform', sender: 'client:t', receiver: 'a', message_id: 'm0', conversation_id: 'c0' }, 'a');
    await runtime.whenIdle();
    const routed = env.sink.messages.find((m) => m.sender === 'a')!;
    const [line] = env.logText('b');
    expect(line).toBe(`${sent.slice(0, -1)},"sender":"a","message_id":"${routed.message_id}","conversation_id":"${routed.message_id}"}`);
    expectExact(routed, line);
  });
});
