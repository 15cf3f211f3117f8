// Whatever answers at --server may answer 200 with another shape (a proxy's page as JSON, an older node,
// something else on the port): the CLI says which field it could not read, with a non-zero exit, instead of
// a TypeError's text ("Cannot read properties of undefined") or `undefined` printed with exit 0. Bad --server
// and --api-key values are usage errors naming the flag, not "cannot reach the server".
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caxton } from './run.ts';

let answer = '{}';
let server: Server;
let url = '';

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    if (answer === 'cut') {
      // Headers and a promised length, then the connection drops half-way.
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      response.write('{"agents":[');
      setTimeout(() => response.destroy(), 20);
      return;
    }
    const stream = request.headers.accept === 'text/event-stream';
    response.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
    response.end(stream ? `event: sent\ndata: ${answer}\n\n` : answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const run = (body: string, ...args: string[]) => {
  answer = body;
  return caxton(['--server', url, '--api-key', 'k', ...args], {});
};

describe('the CLI given answers of another shape', () => {
  it.each([
    [['cluster', 'token'], '{}', '"token" is missing'],
    [['cluster', 'status'], '[]', 'expected a JSON object'],
    [['cluster', 'members'], '{"members":[null]}', '"members" is not a list of objects'],
    [['cluster', 'performance', '--all'], '{"nodes":[{"node":"n1","figures":5}]}', null],
    [['agents', 'list'], '{"agents":{}}', '"agents" is not a list of objects'],
    [['agent', 'inspect', 'echo'], 'null', 'expected a JSON object'],
    [['agent', 'logs', 'echo'], '{"lines":"x"}', '"lines" is not a list of objects'],
    [['message', 'send', '--to', 'echo', '--performative', 'inform'], '{"message_id":5}', '"message_id" is not a string'],
    [['conversation', 'show', 'c1'], '{"conversation_id":"c1","state":"x"}', '"messages" is missing'],
    [['security', 'keys', 'list'], '{"op":"list","members":1,"applied":1,"failed":[],"skipped":[null]}', '"skipped" is not a list of strings'],
  ])('%j answered %s', async (args, body, problem) => {
    const r = await run(body, ...args);
    if (problem === null) {
      // A node entry without figures is shown as none, not a crash.
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return;
    }
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^error: unexpected answer from ${url} to (GET|POST) /api/v1/\\S+: `));
    expect(r.stderr).toContain(`: ${problem} (is it a Caxton node of this version?)\n`);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.code).toBe(1);
  });

  it('an event whose data is not a JSON object names the event', async () => {
    const r = await run('not json', 'message', 'send', '--to', 'echo', '--performative', 'request', '--wait', '100');
    expect(r.stderr).toBe('error: unexpected answer from the server: the data of a "sent" event is not a JSON object\n');
    expect(r.code).toBe(1);
  });

  it('a connection that breaks mid-answer is one clear line', async () => {
    const r = await run('cut', 'agents', 'list');
    expect(r.stderr).toBe(`error: the connection to ${url} broke while its answer (HTTP 200) was read\n`);
    expect(r.code).toBe(1);
  });
});

describe('cluster wait given an answer', () => {
  it('of another shape stops at once with the field named, instead of waiting its whole --timeout as if no node answered', async () => {
    const started = Date.now();
    const r = await run('{"nodes":[]}', 'cluster', 'wait', '--nodes', '2', '--timeout', '30');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unexpected answer from .* to GET \/api\/v1\/cluster\/members: "members" is missing/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('that is an error stops at once too; only no answer at all is waited through', async () => {
    const r = await run('{"error":{"code":"UNAUTHENTICATED","message":"no"}}', 'cluster', 'wait', '--nodes', '2', '--timeout', '30');
    expect(r.code).toBe(1);
    const closed = await caxton(['--server', 'http://127.0.0.1:9', '--api-key', 'k', 'cluster', 'wait', '--nodes', '1', '--timeout', '1'], {});
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/0 alive of the 1 nodes waited for after 1 s/);
  });
});

describe('bad --server and --api-key values', () => {
  it.each([['notaurl'], ['http://[::1'], ['ftp://127.0.0.1:8080']])('--server %s is a usage error naming the flag', async (server) => {
    const r = await caxton(['--server', server, 'cluster', 'status'], {});
    expect(r.stderr).toBe(`error: --server "${server}" is not an http(s) URL, e.g. http://127.0.0.1:8080\n`);
    expect(r.code).toBe(2);
  });

  it('CAXTON_SERVER is named when it is the bad one', async () => {
    const r = await caxton(['cluster', 'status'], { CAXTON_SERVER: 'localhost:8080x' });
    expect(r.stderr).toContain('error: CAXTON_SERVER "localhost:8080x" is not an http(s) URL');
    expect(r.code).toBe(2);
  });

  it.each([['a\nb'], ['ké'], ['a b']])('--api-key %j is a usage error naming the flag', async (key) => {
    const r = await caxton(['--server', url, '--api-key', key, 'cluster', 'status'], {});
    expect(r.stderr).toMatch(/^error: --api-key holds a character no API key or JWT has/);
    expect(r.code).toBe(2);
  });
});

describe('text others chose, printed for people', () => {
  const hostile = 'hello\u001b]0;pwned\u0007\u001b[2J\n2026-01-01T00:00:00.000Z  INFO   admin key rotated\r\u009b';
  const escaped = 'hello\\u001b]0;pwned\\u0007\\u001b[2J\\u000a2026-01-01T00:00:00.000Z  INFO   admin key rotated\\u000d\\u009b';

  it("an agent's log line cannot drive the terminal or print a forged line", async () => {
    const r = await run(JSON.stringify({ lines: [{ seq: 1, ts: '2026-12-06T10:00:00.000Z', level: 'info', agent: 'a', message: hostile }] }), 'agent', 'logs', 'a');
    expect(r.stdout).toBe(`2026-12-06T10:00:00.000Z  INFO   ${escaped}\n`);
    expect(r.code).toBe(0);
  });

  it("a member's name from gossip is escaped in the members table", async () => {
    const r = await run(JSON.stringify({ members: [{ id: hostile, address: '127.0.0.1:7946', state: 'alive', agents: 0, version: '1' }] }), 'cluster', 'members');
    expect(r.stdout.split('\n')).toHaveLength(3);
    expect(r.stdout).toContain(escaped);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('JSON output stays the exact text, escaped by JSON itself', async () => {
    const r = await run(JSON.stringify({ lines: [{ seq: 1, ts: 't', level: 'info', agent: 'a', message: hostile }] }), '--output', 'json', 'agent', 'logs', 'a');
    expect(JSON.parse(r.stdout).lines[0].message).toBe(hostile);
  });
});

describe('an event stream that never ends its event', () => {
  it('stops at MAX_EVENT_CHARS with one line, not when the heap is full', async () => {
    const { readServerSentEvents, MAX_EVENT_CHARS } = await import('../../src/cli/sse-reader.ts');
    let served = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield new TextEncoder().encode('event: reply\ndata: ');
      const chunk = new Uint8Array(1024 * 1024).fill(0x78);
      for (;;) {
        served += chunk.length;
        yield chunk;
      }
    }
    await expect(async () => {
      for await (const _ of readServerSentEvents(endless())) expect.unreachable();
    }).rejects.toThrow(/^unexpected answer from the server: an event longer than 32 Mi characters$/);
    expect(served).toBeLessThanOrEqual(MAX_EVENT_CHARS + 2 * 1024 * 1024);
  });

  it('many data lines of one event count together', async () => {
    const { readServerSentEvents } = await import('../../src/cli/sse-reader.ts');
    async function* lines(): AsyncGenerator<Uint8Array> {
      const line = new TextEncoder().encode(`data: ${'y'.repeat(1024 * 1024 - 7)}\n`);
      for (;;) yield line;
    }
    await expect(async () => {
      for await (const _ of readServerSentEvents(lines())) expect.unreachable();
    }).rejects.toThrow(/an event longer than/);
  });
});

describe('an admin.key that is not one', () => {
  it('is named, not read as "cannot reach the server"', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'caxton-cli-key-'));
    try {
      writeFileSync(join(dir, 'admin.key'), 'first line\nsecond line\n');
      const r = await caxton(['--server', url, '--data-dir', dir, 'cluster', 'status'], {});
      expect(r.stderr).toBe(`error: ${join(dir, 'admin.key')} holds a character no API key has: is it a Caxton node's admin.key?\n`);
      expect(r.code).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
