import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { SendOptions, SendResult } from '../../src/node/services.ts';
import type { MessageInput } from '../../src/messaging/message.ts';
import { FakeNodeServices } from './fake-services.ts';
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
    expect(services.sent[0].options).toMatchObject({ principal: 'app' });
    // The body's own text goes along, so that the node delivers it spliced instead of serializing the message again.
    expect(services.sent[0].options.bodyText).toBe(JSON.stringify({ performative: 'inform', receiver: 'echo', content: { a: 1 } }));
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

  it('with wait_ms: a client that goes away ends the wait (its signal aborts); one that stays is answered', async () => {
    // Holds each wait until its signal aborts, then answers with no replies.
    class HoldingServices extends FakeNodeServices {
      aborted = 0;
      override sendMessage(input: MessageInput, options: SendOptions): Promise<SendResult> {
        if (options.waitMs === undefined) return super.sendMessage(input, options);
        this.sent.push({ input, options });
        return new Promise((resolve) => {
          const signal = options.signal!;
          if (options.waitMs === 1) return resolve({ message_id: 'm-stays', conversation_id: 'c', replies: [] });
          signal.addEventListener('abort', () => {
            this.aborted++;
            resolve({ message_id: 'm-gone', conversation_id: 'c', replies: [] });
          });
        });
      }
    }
    const services = new HoldingServices();
    const { app } = makeApi({ services });
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { port } = app.server.address() as AddressInfo;
      const body = JSON.stringify({ performative: 'request', receiver: 'echo' });
      const post = (waitMs: number) =>
        httpRequest({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/api/v1/messages?wait_ms=${waitMs}`,
          headers: { ...bearer('sender-key'), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        });
      const leaving = post(60_000);
      leaving.on('error', () => {});
      leaving.end(body);
      await expect.poll(() => services.sent.length).toBe(1);
      expect(services.aborted).toBe(0);
      leaving.destroy();
      await expect.poll(() => services.aborted).toBe(1);

      const staying = post(1);
      const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
        staying.on('response', (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: text }));
        });
        staying.on('error', reject);
      });
      staying.end(body);
      const { status, body: text } = await answered;
      expect(status).toBe(200);
      expect(JSON.parse(text)).toEqual({ message_id: 'm-stays', conversation_id: 'c', replies: [] });
      expect(services.aborted).toBe(1);
    } finally {
      await app.close();
    }
  });
});
