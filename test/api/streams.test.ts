// Server-sent events need a real socket: inject() waits for a response end that never comes.
import { get } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageOfWireText } from '../../src/messaging/wire-text.ts';
import { bearer, makeApi } from './helpers.ts';

const { app, services } = makeApi();
let base = '';

beforeAll(async () => {
  await services.deployAgent({ name: 'echo' }, new Uint8Array([0]));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await app.close();
});

/**
 * An event stream read over node:http with its own socket (fetch's pool opens a spare connection that
 * would hold the server's close() for its keep-alive timeout).
 */
function openStream(path: string, headers: Record<string, string>): Promise<{
  status: number;
  contentType: string;
  until: (predicate: (text: string) => boolean) => Promise<string>;
  close: () => void;
}> {
  return new Promise((resolve, reject) => {
    const req = get(`${base}${path}`, { headers, agent: false }, (res) => {
      let text = '';
      const waiters: Array<() => void> = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (const w of waiters.splice(0)) w();
      });
      const until = async (predicate: (t: string) => boolean): Promise<string> => {
        while (!predicate(text)) await new Promise<void>((r) => waiters.push(r));
        return text;
      };
      resolve({ status: res.statusCode!, contentType: String(res.headers['content-type']), until, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe('server-sent events', () => {
  it('/api/v1/events streams node events and unsubscribes when the client goes away', async () => {
    const stream = await openStream('/api/v1/events', bearer('viewer-key'));
    expect(stream.status).toBe(200);
    expect(stream.contentType).toContain('text/event-stream');
    await waitFor(() => services.eventListenerCount === 1);
    services.emit({ type: 'agent.state', ts: 't', data: { agent: 'echo', state: 'running' } });
    const text = await stream.until((t) => t.includes('event: agent.state') && t.endsWith('\n\n'));
    expect(text).toContain('event: agent.state\ndata: {"type":"agent.state"');
    stream.close();
    await waitFor(() => services.eventListenerCount === 0);
  });

  it('/events without a token is 401 JSON, not a stream', async () => {
    const res = await fetch(`${base}/api/v1/events`);
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe('UNAUTHENTICATED');
  });

  it('logs?follow=true sends the backlog then live lines, with seq as event id', async () => {
    services.log('echo', 'before');
    const stream = await openStream('/api/v1/agents/echo/logs?follow=true', bearer('viewer-key'));
    await waitFor(() => services.logListenerCount === 1);
    services.log('echo', 'after');
    const text = await stream.until((t) => t.includes('"after"'));
    expect(text).toMatch(/id: 1\nevent: log\ndata: .*"before"[\s\S]*id: 2\nevent: log\ndata: .*"after"/);
    stream.close();
    await waitFor(() => services.logListenerCount === 0);
  });

  it('follow on an unknown agent is a JSON 404', async () => {
    const res = await fetch(`${base}/api/v1/agents/ghost/logs?follow=true`, { headers: bearer() });
    expect(res.status).toBe(404);
  });

  it('a streamed reply is written as the text it was delivered as, unless that text spans lines', async () => {
    const oneLine = '{ "performative" : "inform", "sender":"echo", "receiver":"client:admin", "message_id":"r1", "conversation_id":"c-s" }';
    const lines = '{\n  "performative": "inform",\n  "sender": "echo",\n  "receiver": "client:admin",\n  "message_id": "r2",\n  "conversation_id": "c-s"\n}';
    const send = services.sendMessage;
    services.sendMessage = async () => ({ message_id: 'm-s', conversation_id: 'c-s', replies: [messageOfWireText(oneLine, -1), messageOfWireText(lines, -1)] });
    try {
      const res = await fetch(`${base}/api/v1/messages?wait_ms=1000&stream=true`, {
        method: 'POST',
        headers: { ...bearer(), 'content-type': 'application/json' },
        body: JSON.stringify({ performative: 'request', receiver: 'echo' }),
      });
      const text = await res.text();
      const replies = text.split('\n\n').filter((e) => e.startsWith('event: reply\n'));
      expect(replies).toEqual([`event: reply\ndata: ${oneLine}`, `event: reply\ndata: ${JSON.stringify(JSON.parse(lines))}`]);
    } finally {
      services.sendMessage = send;
    }
  });

  it('close() ends open streams instead of waiting for their clients', async () => {
    const other = makeApi();
    const url = await other.app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${url}/api/v1/events`, { headers: bearer() });
    await waitFor(() => other.services.eventListenerCount === 1);
    await other.app.close();
    expect(other.services.eventListenerCount).toBe(0);
    await res.body!.cancel().catch(() => {});
  });
});
