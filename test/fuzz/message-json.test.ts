// Fuzzing the message JSON boundary: whatever a client, an agent or a peer sends, parseMessage answers ok or
// names a field, never throws, and never lets through content the host cannot serialize; a message an agent
// sends reaches its receiver as exactly the JSON of the stamped message (the wire-text splice).
// Pure layers only (no node), so FUZZ_RUNS=100000 takes seconds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wireTextOf } from '../../src/messaging/wire-text.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { MAX_CONTENT_DEPTH, PERFORMATIVES, parseMessage } from '../../src/messaging/message.ts';
import { assertInChunks } from './chunked.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';
import { fuzzHost } from './host-fixture.ts';

/** Content nested `depth` deep in objects and arrays, mixed. */
const deepContent = fc.tuple(fc.integer({ min: 0, max: 3 * MAX_CONTENT_DEPTH }), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 })).map(([depth, kinds]) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = kinds[i % kinds.length] ? [value] : { k: value };
  return { value, depth };
});

const field = fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null), fc.constant(undefined), fc.jsonValue({ maxDepth: 2 }));
const receiver = fc.oneof(
  fc.constantFrom('bob', 'capability:echo', 'client:alice', 'Bad Name', '', 'capability:'),
  fc.array(fc.constantFrom('bob', 'carol', 'capability:x'), { maxLength: 120 }),
  field,
);
const message = fc.record(
  {
    performative: fc.oneof(fc.constantFrom(...PERFORMATIVES), field),
    receiver,
    content: fc.oneof(fc.jsonValue({ maxDepth: 6 }), deepContent.map((d) => d.value)),
    conversation_id: field,
    reply_with: field,
    in_reply_to: field,
    protocol: field,
    reply_by: fc.oneof(fc.constant('2030-01-01T00:00:00Z'), field),
    trace_context: fc.oneof(fc.record({ traceparent: fc.string({ maxLength: 10 }) }), field),
    sender: field,
    message_id: field,
    unknown: field,
  },
  { requiredKeys: [] },
);

/** Messages that are mostly valid, so the accepted paths (stamping, splicing, serializing) are exercised too. */
const validish = fc.record(
  {
    performative: fc.constantFrom(...PERFORMATIVES),
    receiver: fc.constantFrom('bob', 'capability:echo', 'client:alice'),
    content: fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.string({ unit: 'binary' }), deepContent.map((d) => d.value)),
    conversation_id: fc.string({ minLength: 1, maxLength: 40 }),
    protocol: fc.constantFrom('fipa-request', 'x'),
    language: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: ['performative', 'receiver'] },
);

const fuzz = { ...fuzzParameters() };

describe('fuzz: message JSON', () => {
  it('parseMessage never throws; an accepted message is serializable and no deeper than the bound', async () => {
    await assertInChunks(
      fc.property(fc.oneof(message, validish, fc.jsonValue({ maxDepth: 4 })), (value) => {
        const result = parseMessage(value);
        if (!result.ok) {
          expect(typeof result.field).toBe('string');
          expect(result.message.startsWith(result.field) || result.field === '(message)').toBe(true);
          return;
        }
        expect(typeof JSON.stringify(result.message)).toBe('string');
      }),
      fuzz,
    );
  }, fuzzTimeoutMs(3));

  it('content deeper than the bound is refused naming `content`, at or under it accepted', async () => {
    await assertInChunks(
      fc.property(deepContent, ({ value, depth }) => {
        const result = parseMessage({ performative: 'inform', receiver: 'bob', content: value });
        if (depth > MAX_CONTENT_DEPTH) expect(result).toMatchObject({ ok: false, field: 'content' });
        else expect(result.ok).toBe(true);
      }),
      fuzz,
    );
  }, fuzzTimeoutMs(3));

  it('arbitrary text through send_message: a send is refused with a code, or delivered as exactly its stamped JSON', async () => {
    const { host, memory } = fuzzHost(2);
    const texts = fc.oneof(
      message.map((m) => JSON.stringify(m) ?? ''),
      validish.map((m) => JSON.stringify(m)),
      fc.tuple(validish, fc.constantFrom(0, 2, '\t')).map(([m, indent]) => JSON.stringify(m, null, indent)),
      // The agent's own formatting: spaces, key order, escapes (the splice must see through them or step aside).
      fc.tuple(message, fc.constantFrom(0, 1, '\t')).map(([m, indent]) => JSON.stringify(m, null, indent) ?? ''),
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    await assertInChunks(
      fc.property(texts, (text) => {
        const bytes = Buffer.from(text, 'utf8');
        if (bytes.length > memory.buffer.byteLength) return;
        Buffer.from(memory.buffer).set(bytes, 0);
        const send = host.caxtonImports().send_message as (ptr: number, len: number) => number;
        const result = send(0, bytes.length);
        if (result !== 0) {
          expect([-1, -2, -3]).toContain(result);
          expect(host.outbox).toHaveLength(0);
          return;
        }
        const sent = host.outbox.pop() as AclMessage;
        expect(sent.sender).toBe('fuzz-agent');
        const wire = wireTextOf(sent, false);
        expect(JSON.parse(wire)).toEqual(JSON.parse(JSON.stringify(sent)));
      }),
      fuzz,
    );
  }, fuzzTimeoutMs(3));
});
