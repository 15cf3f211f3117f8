// Each history or dead-letter answer is bounded in bytes (api.max_answer_bytes), but answers built at once
// multiplied it: 16 parallel reads took a node to 1.4–1.9 GB. api.max_answers_in_flight bounds them; a read
// past it waits its turn in a queue of api.max_answers_queued, and past that gets 503 with Retry-After.
import { afterEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { ConversationView } from '../../src/node/services.ts';
import { bearer, makeApi } from './helpers.ts';

let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const until = async (done: () => boolean): Promise<void> => {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
};

describe('api.max_answers_in_flight and api.max_answers_queued', () => {
  it('builds at most the bound at once, queues the next in order, refuses past the queue with 503', async () => {
    const made = makeApi({ maxAnswersInFlight: 2, maxAnswersQueued: 1 });
    app = made.app;
    const held: { id: string; resolve: () => void }[] = [];
    made.services.getConversation = (id: string) =>
      new Promise<ConversationView>((resolve) => held.push({ id, resolve: () => resolve({ conversation_id: id, protocol: null, state: 'untracked', messages: [] }) }));
    const get = (id: string) => app!.inject({ method: 'GET', url: `/api/v1/conversations/${id}`, headers: bearer() });
    const first = get('c1');
    const second = get('c2');
    await until(() => held.length === 2);
    const third = get('c3'); // waits: both slots are taken
    await new Promise((r) => setTimeout(r, 50));
    expect(held.map((h) => h.id)).toEqual(['c1', 'c2']);
    const fourth = await get('c4'); // the queue (1) is full
    expect(fourth.statusCode).toBe(503);
    expect(fourth.headers['retry-after']).toBe('1');
    expect(fourth.json()).toMatchObject({ error: { code: 'UNAVAILABLE', message: expect.stringContaining('api.max_answers_in_flight') } });
    const dead = await app.inject({ method: 'GET', url: '/api/v1/dead-letters', headers: bearer() });
    expect(dead.statusCode).toBe(503); // one bound for both reads
    held[0]!.resolve();
    expect((await first).statusCode).toBe(200);
    await until(() => held.length === 3); // the queued read got the slot
    expect(held[2]!.id).toBe('c3');
    held[1]!.resolve();
    held[2]!.resolve();
    expect((await second).statusCode).toBe(200);
    expect((await third).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/dead-letters', headers: bearer() })).statusCode).toBe(200);
  });

  it('twenty reads at once of a client are all answered, four at a time by default', async () => {
    const made = makeApi();
    app = made.app;
    let running = 0;
    let most = 0;
    made.services.getConversation = async (id: string) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      return { conversation_id: id, protocol: null, state: 'untracked', messages: [] };
    };
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => app!.inject({ method: 'GET', url: `/api/v1/conversations/c${i}`, headers: bearer() })));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(200));
    expect(most).toBe(4);
  });
});
