// Issue 4's live views through the real node: replies streamed as they arrive (API and `caxton message send
// --wait`), GET /api/v1/events (agent state changes, sampled messages, conversation changes), `caxton
// conversation show` and `caxton queue dead-letters [--purge]`.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServerSentEvents, type ServerSentEvent } from '../../src/cli/sse-reader.ts';
import { cliPath, runCli } from '../helpers/node-process.ts';
import { eventually, startTestNode, type TestNode } from './node-harness.ts';

let t: TestNode;
let cliEnv: Record<string, string>;

/** Long enough that nothing here can reach it before the test is done with the stream. */
const FAR_DEADLINE_MS = 4_000;
const CLI_DEADLINE_MS = 12_000;

beforeAll(async () => {
  t = await startTestNode();
  cliEnv = { CAXTON_SERVER: t.url, CAXTON_API_KEY: t.key };
  await t.deploy('echo', 'echo');
  for (const name of ['mason-1', 'mason-2', 'mason-3']) await t.deploy(name, 'contract-net-participant', ['masonry']);
  await t.deploy('silent-mason', 'contract-net-participant', ['masonry']);
});
afterAll(async () => {
  await t?.stop();
});

async function openStream(path: string, init: { method?: string; json?: unknown } = {}): Promise<{ response: Response; events: AsyncGenerator<ServerSentEvent>; stop: AbortController }> {
  const stop = new AbortController();
  const response = await fetch(`${t.url}${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${t.key}`, accept: 'text/event-stream', ...(init.json ? { 'content-type': 'application/json' } : {}) },
    body: init.json ? JSON.stringify(init.json) : undefined,
    signal: stop.signal,
  });
  return { response, events: readServerSentEvents(response.body as unknown as AsyncIterable<Uint8Array>), stop };
}

function cfpTo(capability: string, conversationId: string) {
  return {
    performative: 'cfp',
    receiver: `capability:${capability}`,
    protocol: 'fipa-contract-net',
    conversation_id: conversationId,
    reply_by: new Date(Date.now() + FAR_DEADLINE_MS).toISOString(),
    content: { task: 'wall' },
  };
}

describe('POST /api/v1/messages?wait_ms=N&stream=true', () => {
  it('writes each reply as it arrives, then the TIMEOUT of the silent one, then end', async () => {
    const { response, events } = await openStream('/api/v1/messages?wait_ms=10000&stream=true', { method: 'POST', json: cfpTo('masonry', 'stream-1') });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const seen: { event: string; data: any; stateThen?: string }[] = [];
    for await (const { event, data } of events) {
      const entry: { event: string; data: any; stateThen?: string } = { event, data: JSON.parse(data) };
      // A reply read while the node still collects proposals proves it was not held back until the end.
      if (event === 'reply' && entry.data.performative === 'propose') {
        entry.stateThen = (await t.api('/api/v1/conversations/stream-1')).body.state;
      }
      seen.push(entry);
      if (event === 'end') break;
    }
    expect(seen[0]).toMatchObject({ event: 'sent', data: { conversation_id: 'stream-1' } });
    const replies = seen.filter((e) => e.event === 'reply');
    expect(replies.slice(0, 3).map((e) => e.data.performative)).toEqual(['propose', 'propose', 'propose']);
    expect(replies[0].stateThen).toBe('collecting-proposals');
    expect(replies[3].data).toMatchObject({ performative: 'failure', sender: 'silent-mason', content: { error: { code: 'TIMEOUT' } } });
    expect(seen.at(-1)).toMatchObject({ event: 'end', data: { conversation_id: 'stream-1', replies: 4 } });
  });

  it('keeps the plain form: 200 with every reply in one JSON body', async () => {
    const { status, body } = await t.api('/api/v1/messages?wait_ms=1000', { json: { performative: 'request', receiver: 'echo', content: { a: 1 } } });
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['conversation_id', 'message_id', 'replies']);
    expect(body.replies[0]).toMatchObject({ performative: 'inform', content: { a: 1 } });
  });

  it('refuses stream without wait_ms, and a bad message before any event, with the usual 400', async () => {
    expect((await t.api('/api/v1/messages?stream=true', { json: { performative: 'request', receiver: 'echo' } })).status).toBe(400);
    const bad = await t.api('/api/v1/messages?wait_ms=100&stream=true', { json: { performative: 'shout', receiver: 'echo' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_ARGUMENT');
  });
});

describe('caxton message send --wait', () => {
  it('prints each reply while it still waits for the others (json: one object per line)', async () => {
    const child = spawn(
      process.execPath,
      [cliPath, '--output', 'json', 'message', 'send', '--to', 'capability:masonry', '--performative', 'cfp',
        // The deadline counts from now, before the CLI process has started: under a loaded CI machine that
        // start alone has taken over 4 s, so this one leaves the CLI 12 s to send and hear the proposals.
        '--protocol', 'fipa-contract-net', '--conversation-id', 'cli-stream', '--reply-by', new Date(Date.now() + CLI_DEADLINE_MS).toISOString(),
        '--content', '{"task":"wall"}', '--wait', String(CLI_DEADLINE_MS + 5_000)],
      { env: { ...process.env, ...cliEnv }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close', not 'exit': stdout may still hold data when the process has exited.
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    let runningAtFirstProposal: boolean | undefined;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (runningAtFirstProposal === undefined && stdout.includes('"propose"')) {
          // The silent participant holds the wait open until reply_by: the CLI cannot have finished yet.
          runningAtFirstProposal = child.exitCode === null;
          resolve();
        }
      });
      void exited.then(() => resolve());
    });
    expect(await exited, stderr).toBe(0);
    expect(runningAtFirstProposal).toBe(true);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.event)).toEqual(['sent', 'reply', 'reply', 'reply', 'reply', 'end']);
    expect(lines[1].message).toMatchObject({ performative: 'propose', conversation_id: 'cli-stream' });
    expect(lines[4].message.content.error.code).toBe('TIMEOUT');
  });

  it('prints readable lines in table mode', async () => {
    const run = await runCli(['message', 'send', '--to', 'echo', '--performative', 'request', '--content', '{"x":1}', '--wait', '2000'], cliEnv);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^sent \S+ \(conversation \S+\)\ninform from echo: \{"x":1\}\n$/);
  });
});

describe('caxton conversation show', () => {
  it('prints the protocol and state on top, the participants, then the messages as a timeline', async () => {
    await t.api('/api/v1/messages?wait_ms=3000', { json: { ...cfpTo('masonry', 'show-1'), reply_by: new Date(Date.now() + 200).toISOString() } });
    await eventually(async () => (await t.api('/api/v1/conversations/show-1')).body.messages?.length ?? 0, (n) => n >= 5);
    const run = await runCli(['conversation', 'show', 'show-1'], cliEnv);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('conversation show-1  protocol fipa-contract-net  state deciding');
    expect(run.stdout).toMatch(/silent-mason\s+timed-out/);
    expect(run.stdout).toMatch(/1\s+client:admin\s+→\s+capability:masonry\s+cfp\s+\S+Z\s+\{"task":"wall"\}/);
    expect(run.stdout).toMatch(/mason-1\s+→\s+client:admin\s+propose\s+-\s+\{"price":\d+,"bidder":"mason-1"\}/);
    expect(run.stdout).toMatch(/silent-mason\s+→\s+client:admin\s+failure\s+-\s+error TIMEOUT/);
  });
});

describe('caxton queue dead-letters', () => {
  it('lists what could not be delivered, and --purge empties the store', async () => {
    await t.api('/api/v1/messages?wait_ms=1000', { json: { performative: 'request', receiver: 'nobody-here', content: {} } });
    await eventually(async () => (await t.api('/api/v1/dead-letters')).body.dead_letters.length, (n) => n > 0);
    const list = await runCli(['queue', 'dead-letters'], cliEnv);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+TIME\s+REASON\s+PERFORMATIVE\s+SENDER\s+RECEIVER\n/);
    expect(list.stdout).toMatch(/AGENT_NOT_FOUND\s+request\s+client:admin\s+nobody-here/);
    const count = (await t.api('/api/v1/dead-letters')).body.dead_letters.length;

    const purge = await runCli(['--output', 'json', 'queue', 'dead-letters', '--purge'], cliEnv);
    expect(purge.code, purge.stderr).toBe(0);
    expect(JSON.parse(purge.stdout)).toEqual({ purged: count });
    const after = await runCli(['queue', 'dead-letters'], cliEnv);
    expect(after.stdout).toBe('no dead letters\n');
  });
});

describe('GET /api/v1/events', () => {
  it('shows agent state changes, sampled messages and conversation changes', async () => {
    const { response, events, stop } = await openStream('/api/v1/events');
    expect(response.status).toBe(200);
    const seen: { event: string; data: any }[] = [];
    const wanted = (e: { event: string; data: any }) =>
      seen.some((s) => s.event === 'agent.state' && s.data.data.agent === 'watched' && s.data.data.to === 'running') &&
      seen.some((s) => s.event === 'message' && s.data.data.conversation_id === 'watched-1') &&
      seen.some((s) => s.event === 'conversation' && s.data.data.conversation_id === 'watched-1' && s.data.data.change === 'ended') &&
      e !== undefined;
    const reading = (async () => {
      for await (const { event, data } of events) {
        const entry = { event, data: JSON.parse(data) };
        seen.push(entry);
        if (wanted(entry)) return;
      }
    })();
    await t.deploy('watched', 'echo');
    await t.api('/api/v1/messages?wait_ms=1000', {
      json: { performative: 'request', receiver: 'watched', protocol: 'fipa-request', conversation_id: 'watched-1', content: {} },
    });
    await reading;
    stop.abort();
    const message = seen.find((s) => s.event === 'message' && s.data.data.performative === 'request')!;
    expect(message.data).toMatchObject({
      type: 'message',
      data: { sender: 'client:admin', receiver: 'watched', protocol: 'fipa-request', outcome: 'queued' },
    });
    expect(seen.find((s) => s.event === 'conversation')!.data.data).toMatchObject({ change: 'opened', protocol: 'fipa-request' });
  });
});
