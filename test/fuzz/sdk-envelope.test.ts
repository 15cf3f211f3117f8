// Fuzzing the AssemblyScript SDK's reading of an incoming message (Message.fromBytes, field by field), through
// the echo example in a minimal host: any envelope JSON.parse reads as an object with a string performative is
// handled (0) and answered as echo answers; anything else is refused with -1; and no input, however mangled,
// traps the agent. Pure wasm (no node), so FUZZ_RUNS=100000 takes seconds.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MiniHost } from '../sdk/mini-host.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

const echoBytes = new Uint8Array(readFileSync(new URL('../../examples/build/echo.wasm', import.meta.url)));
const ANSWERED = new Set(['request', 'query-if', 'query-ref']);
const EXPECTS_REPLY = new Set([...ANSWERED, 'cfp', 'subscribe']);

const field = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
const envelope = fc.record(
  {
    performative: fc.oneof(fc.constantFrom('request', 'query-if', 'query-ref', 'inform', 'cfp', 'subscribe', 'agree', 'request-when'), field),
    sender: fc.oneof(fc.constantFrom('client:alice', 'bob'), field),
    receiver: fc.oneof(fc.constant('echo'), fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }), field),
    content: fc.jsonValue({ maxDepth: 4 }),
    conversation_id: field,
    reply_with: field,
    message_id: field,
    protocol: field,
    trace_context: fc.oneof(fc.record({ traceparent: fc.string({ maxLength: 10 }) }), field),
    extra: field,
  },
  { requiredKeys: [] },
);
/** Whitespace JSON allows between tokens, to put between some of them. */
const spacing = fc.constantFrom('', ' ', '\n', '\t ', '\r\n');

/** What echo sends back for `value` (JSON.parse of what it got), or null when it must refuse it (-1). */
function expectedAnswer(value: unknown): { handled: boolean; reply?: Record<string, unknown> } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { handled: false };
  const msg = value as Record<string, unknown>;
  if (typeof msg.performative !== 'string') return { handled: false };
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const p = msg.performative;
  if (!EXPECTS_REPLY.has(p)) return { handled: true };
  const reply: Record<string, unknown> = { performative: ANSWERED.has(p) ? 'inform' : 'not-understood', receiver: text(msg.sender) };
  if (!ANSWERED.has(p)) reply.content = { error: { code: 'UNSUPPORTED', message: 'echo answers request and query only' } };
  else if ('content' in msg) reply.content = msg.content;
  if (text(msg.protocol)) reply.protocol = msg.protocol;
  if (text(msg.conversation_id)) reply.conversation_id = msg.conversation_id;
  const inReplyTo = text(msg.reply_with) || text(msg.message_id);
  if (inReplyTo) reply.in_reply_to = inReplyTo;
  return { handled: true, reply };
}

describe('the SDK reading an incoming message (fuzzed)', () => {
  it('handles what JSON.parse reads as an object with a string performative, refuses the rest, as echo answers', async () => {
    const host = await MiniHost.load(echoBytes, 'echo');
    fc.assert(
      fc.property(fc.oneof(envelope, fc.jsonValue({ maxDepth: 2 })), spacing, (value, space) => {
        // Whitespace after each comma and colon outside strings would change strings; around the whole text it cannot.
        const text = `${space}${JSON.stringify(value) ?? 'null'}${space}`;
        const before = host.rawSent.length;
        const result = host.deliverBytes(new TextEncoder().encode(text));
        const expected = expectedAnswer(JSON.parse(text));
        expect(result).toBe(expected.handled ? 0 : -1);
        // What the agent wrote, before the host adds its fields.
        const sent = host.rawSent.slice(before).map((raw) => JSON.parse(raw) as Record<string, unknown>);
        if (expected.reply === undefined) {
          expect(sent).toEqual([]);
        } else {
          expect(sent).toHaveLength(1);
          const { content, ...rest } = expected.reply;
          const { content: gotContent, ...gotRest } = sent[0];
          expect(gotRest).toEqual(rest);
          // Content passes through as its bytes, so it reads back as the same value.
          expect(gotContent).toEqual(content);
        }
      }),
      fuzzParameters(),
    );
  }, fuzzTimeoutMs());

  it('never traps, whatever bytes arrive: mangled envelopes are handled or refused with -1', async () => {
    const host = await MiniHost.load(echoBytes, 'echo');
    const mangled = fc
      .tuple(envelope, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }))
      .map(([value, edits]) => {
        const bytes = [...new TextEncoder().encode(JSON.stringify(value))];
        for (const [at, kind, byte] of edits) {
          const i = bytes.length === 0 ? 0 : at % bytes.length;
          if (kind === 0) bytes[i] = byte;
          else if (kind === 1) bytes.splice(i, 1);
          else bytes.splice(i, 0, byte);
        }
        return new Uint8Array(bytes);
      });
    fc.assert(
      fc.property(mangled, (bytes) => {
        expect([0, -1]).toContain(host.deliverBytes(bytes));
      }),
      fuzzParameters(),
    );
  }, fuzzTimeoutMs());
});
