// HEAD on an event stream route (Fastify answers HEAD with the GET handler): the headers are the answer, at
// once, and no stream slot or subscriber is held. Before, a HEAD got no answer at all (a body is never sent to
// HEAD, so nothing flushed the headers) and held a slot of api.max_event_streams until the client gave up:
// a few idle HEADs refused every console its live events.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, makeApi } from './helpers.ts';

const { app, services } = makeApi({ maxEventStreams: 2 });
let base = '';

beforeAll(async () => {
  await services.deployAgent({ name: 'echo' }, new Uint8Array([0]));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
});

/** One request on its own socket: the status and content type, or 'no answer' after `timeoutMs`. */
function send(method: string, path: string, timeoutMs = 2_000): Promise<{ status: number; type: string } | 'no answer'> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers: bearer('viewer-key'), agent: false }, (res) => {
      resolve({ status: res.statusCode!, type: String(res.headers['content-type']) });
      req.destroy();
    });
    req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
    setTimeout(() => {
      resolve('no answer');
      req.destroy();
    }, timeoutMs);
    req.end();
  });
}

describe('HEAD on an event stream', () => {
  it('is answered with the stream headers and holds nothing', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await send('HEAD', '/api/v1/events'));
    expect(answers).toEqual(Array(4).fill({ status: 200, type: 'text/event-stream; charset=utf-8' }));
    expect(services.eventListenerCount).toBe(0);
    // The two slots are free: a GET still gets its stream.
    expect(await send('GET', '/api/v1/events')).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8' });
  });
});

describe('HEAD on a followed agent log', () => {
  it('is answered at once too', async () => {
    for (let i = 0; i < 3; i++) {
      expect(await send('HEAD', '/api/v1/agents/echo/logs?follow=true')).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8' });
    }
    expect(await send('GET', '/api/v1/events')).toEqual({ status: 200, type: 'text/event-stream; charset=utf-8' });
  });
});
