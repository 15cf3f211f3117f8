import { describe, expect, it } from 'vitest';
import { bearer, makeApi } from './helpers.ts';

describe('POST /api/v1/messages', () => {
  it('202 with ids; the principal is passed as sender identity', async () => {
    const { app, services } = makeApi();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/messages',
      headers: bearer('sender-key'),
      payload: { performative: 'inform', receiver: 'echo', content: { a: 1 } },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ message_id: 'm-1', conversation_id: 'c-m-1' });
    expect(services.sent[0].options).toEqual({ principal: 'app' });
  });

  it('with wait_ms: 200 and the replies', async () => {
    const { app, services } = makeApi();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/messages?wait_ms=500',
      headers: bearer('sender-key'),
      payload: { performative: 'request', receiver: ['a', 'b'], protocol: 'fipa-request' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().replies.map((r: { sender: string }) => r.sender)).toEqual(['a', 'b']);
    expect(services.sent[0].options.waitMs).toBe(500);
  });

  it.each([
    ['unknown performative', { performative: 'shout', receiver: 'a' }, 'performative'],
    ['unknown field', { performative: 'inform', receiver: 'a', colour: 1 }, 'colour'],
    ['client-set sender', { performative: 'inform', receiver: 'a', sender: 'boss' }, 'sender'],
    ['client-set message_id', { performative: 'inform', receiver: 'a', message_id: 'x' }, 'message_id'],
    ['bad receiver', { performative: 'inform', receiver: '../etc' }, 'receiver'],
    ['missing receiver', { performative: 'inform' }, 'receiver'],
    ['not an object', [1, 2], 'body'],
  ])('%s → 400 naming the field, nothing sent', async (_case, payload, field) => {
    const { app, services } = makeApi();
    const res = await app.inject({ method: 'POST', url: '/api/v1/messages', headers: bearer(), payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    expect(res.json().error.details.field).toBe(field);
    expect(services.sent).toHaveLength(0);
  });

  it('malformed JSON → 400 "body: malformed JSON"', async () => {
    const { app } = makeApi();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/messages',
      headers: { ...bearer(), 'content-type': 'application/json' },
      payload: '{"performative": ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'body' } });
    expect(res.json().error.message).toMatch(/^body: malformed JSON/);
  });

  it('bad wait_ms → 400 naming wait_ms; a message over the limit → 413', async () => {
    const { app } = makeApi({ maxMessageBytes: 256 });
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/messages?wait_ms=-5',
      headers: bearer(),
      payload: { performative: 'inform', receiver: 'a' },
    });
    expect(bad.json().error.details.field).toBe('wait_ms');
    const big = await app.inject({
      method: 'POST',
      url: '/api/v1/messages',
      headers: bearer(),
      payload: { performative: 'inform', receiver: 'a', content: 'x'.repeat(1000) },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('TOO_LARGE');
  });

  it('a viewer may not send (403)', async () => {
    const { app } = makeApi();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/messages',
      headers: bearer('viewer-key'),
      payload: { performative: 'inform', receiver: 'a' },
    });
    expect(res.statusCode).toBe(403);
  });
});
