// Each history or dead-letter answer is bounded in bytes (api.max_answer_bytes), but answers built at once
// multiplied it: 16 parallel reads took a node to 1.4–1.9 GB. api.max_answers_in_flight bounds them; one more
// gets 503 with Retry-After, and a slot is free again once its response is over.
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { ConversationView } from '../../src/node/services.ts';
import { bearer, makeApi } from './helpers.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('api.max_answers_in_flight', () => {
  it('refuses a large answer past the bound with 503, and serves again once one is sent', async () => {
    const made = makeApi({ maxAnswersInFlight: 2 });
    app = made.app;
    const held: (() => void)[] = [];
    made.services.getConversation = (id: string) =>
      new Promise<ConversationView>((resolve) => held.push(() => resolve({ conversation_id: id, protocol: null, state: 'untracked', messages: [] })));
    const get = (id: string) => app!.inject({ method: 'GET', url: `/api/v1/conversations/${id}`, headers: bearer() });
    const first = get('c1');
    const second = get('c2');
    while (held.length < 2) await new Promise((r) => setTimeout(r, 5));
    const third = await get('c3');
    expect(third.statusCode).toBe(503);
    expect(third.headers['retry-after']).toBe('1');
    expect(third.json()).toMatchObject({ error: { code: 'UNAVAILABLE', message: expect.stringContaining('api.max_answers_in_flight') } });
    const dead = await app.inject({ method: 'GET', url: '/api/v1/dead-letters', headers: bearer() });
    expect(dead.statusCode).toBe(503); // one bound for both reads
    held.shift()!();
    expect((await first).statusCode).toBe(200);
    const fourth = get('c4');
    while (held.length < 2) await new Promise((r) => setTimeout(r, 5));
    held.splice(0).forEach((resolve) => resolve());
    expect((await second).statusCode).toBe(200);
    expect((await fourth).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/dead-letters', headers: bearer() })).statusCode).toBe(200);
  });
});
