// parseMessage checks the common message by hand and leaves the rest to zod: for every input it must give
// the answer messageSchema gives, with the same error wording.
import { describe, expect, it } from 'vitest';
import { isTraceContext, messageSchema, parseMessage } from '../../src/messaging/message.ts';
import { parseTraceparent } from '../../src/observability/trace-context.ts';

const base = { performative: 'inform', receiver: 'b' };
const long = (n: number) => 'x'.repeat(n);

const inputs: unknown[] = [
  base,
  { ...base, content: { any: ['json', 1, null] }, language: 'json', ontology: '', protocol: 'fipa-request' },
  { ...base, sender: 'a', message_id: 'm', conversation_id: 'c', reply_with: 'r', in_reply_to: 'i' },
  { ...base, conversation_id: '' },
  { ...base, sender: '' },
  { ...base, message_id: '' },
  { ...base, protocol: long(256) },
  { ...base, protocol: long(257) },
  { ...base, conversation_id: long(257) },
  { ...base, content: undefined },
  { ...base, sender: undefined },
  { ...base, content: null },
  { ...base, performative: 'INFORM' },
  { ...base, performative: 'shout' },
  { ...base, performative: 7 },
  { receiver: 'b' },
  { performative: 'inform' },
  { ...base, bogus: 1 },
  { ...base, bogus: 1, other: 2 },
  { ...base, reply_by: '2030-01-01T00:00:00Z' },
  { ...base, reply_by: 'tomorrow' },
  { ...base, trace_context: { traceparent: '00-abc-def-01' } },
  { ...base, trace_context: { traceparent: '00-abc-def-01', extra: 1 } },
  { ...base, trace_context: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` } },
  { ...base, trace_context: { traceparent: `01-${'a'.repeat(32)}-${'b'.repeat(16)}-01-later=fields` } },
  { ...base, trace_context: { traceparent: `01-${'a'.repeat(32)}-${'b'.repeat(16)}-00-x"},"sender":"bank","y":{"z":"` } },
  { ...base, trace_context: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, tracestate: 'k=v\n' } },
  { ...base, receiver: 'a'.repeat(63) },
  { ...base, receiver: 'a'.repeat(64) },
  { ...base, receiver: 'Bob' },
  { ...base, receiver: '-b' },
  { ...base, receiver: '.b' },
  { ...base, receiver: '9b.c_d-e' },
  { ...base, receiver: 'b\n' },
  { ...base, receiver: '' },
  { ...base, receiver: 'capability:' },
  { ...base, receiver: 'capability:x' },
  { ...base, receiver: `capability:${long(245)}` },
  { ...base, receiver: `capability:${long(246)}` },
  { ...base, receiver: 'client:' },
  { ...base, receiver: 'client:alice' },
  { ...base, receiver: [] },
  { ...base, receiver: ['b'] },
  { ...base, receiver: ['b', 'b', 'capability:y', 'client:z'] },
  { ...base, receiver: Array.from({ length: 100 }, (_, i) => `a${i}`) },
  { ...base, receiver: Array.from({ length: 101 }, (_, i) => `a${i}`) },
  { ...base, receiver: ['b', 'NOPE'] },
  { ...base, receiver: 5 },
  { ...base, receiver: null },
  null,
  'inform',
  [base],
  JSON.parse('{"performative":"inform","receiver":"b","__proto__":{"x":1}}'),
  Object.assign(Object.create(null), base),
];

describe('parseMessage', () => {
  it('answers exactly as the zod schema does', () => {
    for (const input of inputs) {
      const expected = messageSchema.safeParse(input);
      const actual = parseMessage(input);
      expect(actual.ok, JSON.stringify(input)).toBe(expected.success);
      if (actual.ok && expected.success) expect(actual.message).toEqual(expected.data);
    }
    expect(parseMessage({ ...base, bogus: 1 })).toMatchObject({ ok: false, field: 'bogus', message: expect.stringMatching(/^bogus: unknown field; a message has performative, sender, receiver, /) });
    expect(parseMessage({ ...base, receiver: 'Bob' })).toMatchObject({ ok: false, field: 'receiver' });
  });

  it('words each error for the person who wrote the message, naming the field', () => {
    const { receiver: _r, ...noReceiver } = base;
    const { performative: _p, ...noPerformative } = base;
    const cases: Array<[unknown, string, RegExp]> = [
      [noReceiver, 'receiver', /^receiver: required: an agent name, capability:<cap>, or a list of up to 100 of them$/],
      [{ ...base, receiver: 5 }, 'receiver', /^receiver: must be an agent name/],
      [{ ...base, receiver: [] }, 'receiver', /^receiver: an empty list: name at least one receiver$/],
      [{ ...noReceiver, to: 'echo' }, 'to', /^to: unknown field; a message has /],
      [noPerformative, 'performative', /^performative: required: one of accept-proposal, agree, /],
      [{ ...base, performative: 'shout' }, 'performative', /^performative: unknown performative "shout": one of /],
      ['text', '(message)', /^message: must be a JSON object$/],
      [[base], '(message)', /^message: must be a JSON object$/],
    ];
    for (const [input, field, message] of cases) expect(parseMessage(input), JSON.stringify(input)).toMatchObject({ ok: false, field, message: expect.stringMatching(message) });
  });

  it('takes a trace_context only as W3C text: a quote in it rewrote the sender of what an agent sent on (review finding)', () => {
    const spoof = `01-${'a'.repeat(32)}-${'b'.repeat(16)}-00-x"},"sender":"bank","y":{"z":"`;
    expect(parseMessage({ ...base, trace_context: { traceparent: spoof } })).toMatchObject({ ok: false, field: 'trace_context.traceparent' });
    expect(isTraceContext({ traceparent: spoof })).toBe(false);
    expect(isTraceContext({ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, tracestate: 'k=v' })).toBe(true);
    expect(isTraceContext({ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, other: 1 })).toBe(false);
  });

  it('returns the valid message itself, so the host stamps it without a copy', () => {
    const input = { ...base, content: 1 };
    const parsed = parseMessage(input);
    expect(parsed.ok && parsed.message).toBe(input);
  });
  it('takes as a traceparent only what W3C does, as the tracer does', () => {
    const T = '4bf92f3577b34da6a3ce929d0e0e4736';
    const S = '00f067aa0ba902b7';
    for (const traceparent of [`ff-${T}-${S}-01`, `00-${'0'.repeat(32)}-${S}-01`, `00-${T}-${'0'.repeat(16)}-01`, `00-${T}-${S}-01-x`]) {
      expect(parseTraceparent(traceparent)).toBeUndefined();
      expect(isTraceContext({ traceparent })).toBe(false);
      expect(parseMessage({ ...base, trace_context: { traceparent } })).toMatchObject({
        ok: false,
        field: 'trace_context.traceparent',
        message: 'trace_context.traceparent: must be a W3C traceparent (version-traceid-spanid-flags in lowercase hex)',
      });
    }
    expect(isTraceContext({ traceparent: `00-${T}-${S}-01` })).toBe(true);
    expect(isTraceContext({ traceparent: `01-${T}-${S}-01-later` })).toBe(true);
  });
});
