// The routing link's decoders under hostile input: any bytes, split anywhere, either decode or raise a
// FrameError (the link then closes); nothing else escapes, and nothing is buffered past the frame bound.
// And messages round-trip losslessly (as JSON sees them), compressed or not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, encodeValue, FRAME_HEADER_BYTES, FrameError, FrameReader, FrameType } from '../../src/cluster/routing/frames.ts';
import { decodeAclMessages, encodeAclMessage, encodeOriginEnvelope } from '../../src/cluster/routing/message-codec.ts';
import { MAX_CONTENT_DEPTH, type AclMessage } from '../../src/messaging/message.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

const MAX_FRAME = 64 * 1024;

function feed(bytes: Uint8Array, cuts: number[]): { frames: number; error?: unknown } {
  const reader = new FrameReader(MAX_FRAME);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  let frames = 0;
  try {
    for (const p of [...points, bytes.length]) {
      for (const f of reader.push(Buffer.from(bytes.subarray(at, p)))) {
        frames++;
        if (f.type === FrameType.messages) decodeAclMessages(f.payload);
      }
      at = p;
    }
  } catch (error) {
    return { frames, error };
  }
  return { frames };
}

const aclMessage = fc.record(
  {
    performative: fc.constantFrom('inform', 'request', 'failure'),
    sender: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/),
    receiver: fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/), fc.array(fc.stringMatching(/^[a-z0-9]{1,10}$/), { minLength: 1, maxLength: 3 })),
    content: fc.jsonValue({ maxDepth: 4 }),
    message_id: fc.string({ minLength: 1, maxLength: 40 }),
    conversation_id: fc.string({ minLength: 1, maxLength: 40 }),
    trace_context: fc.record({ traceparent: fc.string({ maxLength: 60 }) }),
  },
  { requiredKeys: ['performative', 'sender', 'receiver', 'message_id', 'conversation_id'] },
) as fc.Arbitrary<AclMessage>;

describe('routing frames (fuzz)', () => {
  it('any bytes, cut anywhere: frames or a FrameError, nothing else', { timeout: fuzzTimeoutMs() }, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const { error } = feed(bytes, cuts);
        if (error !== undefined) expect(error).toBeInstanceOf(FrameError);
      }),
      fuzzParameters(),
    );
  });

  it('a frame header announcing more than the bound is refused before buffering', { timeout: fuzzTimeoutMs() }, () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_FRAME + 1, max: 0xffffffff }), fc.nat(255), (length, type) => {
        const head = Buffer.alloc(FRAME_HEADER_BYTES);
        head.writeUInt32BE(length, 0);
        head[4] = type;
        expect(() => new FrameReader(MAX_FRAME).push(head)).toThrow(FrameError);
      }),
      fuzzParameters(),
    );
  });

  it('messages round-trip as JSON sees them, plain and deflated, whatever the split', { timeout: fuzzTimeoutMs() }, () => {
    fc.assert(
      fc.property(fc.array(aclMessage, { minLength: 1, maxLength: 5 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 4 }), (messages, deflate, cuts) => {
        const parts = messages.map((m) => encodeAclMessage(m, 'receiver'));
        const bytes = parts.reduce((n, p) => n + p.length, 0);
        const frame = encodeFrame(FrameType.messages, parts, bytes, deflate ? 0 : Infinity);
        const reader = new FrameReader(MAX_FRAME);
        const points = [...new Set(cuts.map((c) => c % (frame.length + 1)))].sort((a, b) => a - b);
        const got: unknown[] = [];
        let at = 0;
        for (const p of [...points, frame.length]) {
          for (const f of reader.push(frame.subarray(at, p))) got.push(...decodeAclMessages(f.payload).map((r) => r.message));
          at = p;
        }
        expect(JSON.stringify(got)).toBe(JSON.stringify(messages));
      }),
      fuzzParameters(),
    );
  });
});

describe('routing frames with origin envelopes (fuzz)', () => {
  it('each message keeps its own origin or none, plain and deflated, whatever the split', { timeout: fuzzTimeoutMs() }, () => {
    const origin = fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined });
    fc.assert(
      fc.property(fc.array(fc.tuple(aclMessage, origin), { minLength: 1, maxLength: 5 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 4 }), (items, deflate, cuts) => {
        const parts = items.flatMap(([m, o]) => (o === undefined ? [encodeAclMessage(m, 'receiver')] : [encodeOriginEnvelope(o), encodeAclMessage(m, 'receiver')]));
        const frame = encodeFrame(FrameType.messages, parts, parts.reduce((n, p) => n + p.length, 0), deflate ? 0 : Infinity);
        const reader = new FrameReader(MAX_FRAME);
        const points = [...new Set(cuts.map((c) => c % (frame.length + 1)))].sort((a, b) => a - b);
        const got: Array<{ message: unknown; origin?: string }> = [];
        let at = 0;
        for (const p of [...points, frame.length]) {
          for (const f of reader.push(frame.subarray(at, p))) got.push(...decodeAclMessages(f.payload));
          at = p;
        }
        expect(JSON.stringify(got.map((r) => [r.message, r.origin ?? null]))).toBe(JSON.stringify(items.map(([m, o]) => [m, o ?? null])));
      }),
      fuzzParameters(),
    );
  });
});

describe('routing frames: regressions found while fuzzing', () => {
  const roundTrip = (m: AclMessage): unknown[] => {
    const bytes = encodeAclMessage(m, 'receiver');
    return new FrameReader(1 << 24).push(encodeFrame(FrameType.messages, [bytes], bytes.length)).flatMap((f) => decodeAclMessages(f.payload).map((r) => r.message));
  };
  const base = { performative: 'inform', sender: 'a', receiver: 'b', message_id: 'm', conversation_id: 'c' } as const;

  it('a content key named __proto__ arrives as sent (msgpackr maps renamed it __proto_)', () => {
    const m = { ...base, content: JSON.parse('{"__proto__":{"x":1}}') } as AclMessage;
    expect(JSON.stringify(roundTrip(m))).toBe(JSON.stringify([m]));
  });

  it('content as deep as a message may be arrives as sent (msgpackr recursed per level); deeper is refused, not thrown', () => {
    const m = { ...base, content: JSON.parse(`${'['.repeat(MAX_CONTENT_DEPTH)}${']'.repeat(MAX_CONTENT_DEPTH)}`) } as AclMessage;
    expect(JSON.stringify(roundTrip(m))).toBe(JSON.stringify([m]));
    const deeper = { ...base, content: JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`) } as AclMessage;
    expect(() => encodeAclMessage(deeper, 'receiver')).toThrow(/nested deeper than/);
  });

  it('a value that is not a message text is a FrameError, not a crash', () => {
    expect(() => decodeAclMessages(encodeValue({ performative: 'inform' }))).toThrow(FrameError);
    expect(() => decodeAclMessages(encodeValue('{not json'))).toThrow(FrameError);
  });
});
