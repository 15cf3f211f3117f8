// One answer of GET /api/v1/conversations/{id} and GET /api/v1/dead-letters carries at most
// api.max_answer_bytes (16 MiB) of messages, says it was cut, and says where to continue; the CLI says so too.
// On a real node: 40 messages of ~1 MB to an agent that does not exist are kept in the conversation's history
// and in the dead letters both (before: one 40 MB answer each; 200 of them took the node to 1.8 GB).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { apiClient, type ApiCall } from '../helpers/api-client.ts';
import { runCli, startNode, type NodeProcess } from '../helpers/node-process.ts';

const BUDGET = DEFAULTS.api.max_answer_bytes;
const MESSAGES = 40;
const PAD = 'x'.repeat(1_000_000);
/** The largest message the node accepts: what one answer may hold beyond the budget. */
const ONE_MESSAGE = DEFAULTS.messages.max_bytes;

let node: NodeProcess;
let api: ApiCall;
let key: string;
const sent = new Set<string>();

beforeAll(async () => {
  node = await startNode();
  key = node.apiKey();
  api = apiClient(() => ({ url: node.url, key })).api;
  for (let i = 0; i < MESSAGES; i++) {
    const reply = await api('/api/v1/messages', {
      method: 'POST',
      json: { performative: 'inform', receiver: 'nobody', conversation_id: 'big', content: { i, pad: PAD } },
    });
    expect(reply.status).toBe(202);
    sent.add(reply.body.message_id as string);
  }
}, 120_000);
afterAll(() => node?.kill());

/** The answer's size as sent, and its body. */
async function read(path: string): Promise<{ bytes: number; body: any }> {
  const response = await fetch(`${node.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const text = await response.text();
  expect(response.status, text.slice(0, 200)).toBe(200);
  return { bytes: Buffer.byteLength(text), body: JSON.parse(text) };
}

const bigOnes = (messages: { message_id: string }[]): string[] => messages.map((m) => m.message_id).filter((id) => sent.has(id));

describe('answers of the history and dead-letter reads are bounded in bytes', () => {
  it('GET /api/v1/conversations/{id}: cut at the budget, truncated, and next_after reads the rest', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const { bytes, body } = await read(`/api/v1/conversations/big${after === undefined ? '' : `?after=${after}`}`);
      expect(bytes).toBeLessThanOrEqual(BUDGET + ONE_MESSAGE);
      expect(body.messages.length).toBeGreaterThan(0);
      seen.push(...bigOnes(body.messages));
      after = body.next_after;
      expect(body.truncated === true).toBe(after !== undefined);
      if (pages === 0) expect(body.truncated).toBe(true);
      pages++;
    } while (after !== undefined && pages < 10);
    expect(pages).toBeGreaterThanOrEqual(3);
    // Every message once, oldest first.
    expect(seen).toEqual([...sent]);
  });

  it('GET /api/v1/dead-letters: cut at the budget, truncated, and next_before_id reads the rest', async () => {
    const seen: string[] = [];
    let beforeId: number | undefined;
    let pages = 0;
    do {
      const { bytes, body } = await read(`/api/v1/dead-letters?limit=10000${beforeId === undefined ? '' : `&before_id=${beforeId}`}`);
      expect(bytes).toBeLessThanOrEqual(BUDGET + ONE_MESSAGE);
      expect(body.dead_letters.length).toBeGreaterThan(0);
      seen.push(...bigOnes(body.dead_letters.map((d: { message: { message_id: string } }) => d.message)));
      beforeId = body.next_before_id;
      expect(body.truncated === true).toBe(beforeId !== undefined);
      if (pages === 0) expect(body.truncated).toBe(true);
      pages++;
    } while (beforeId !== undefined && pages < 10);
    expect(pages).toBeGreaterThanOrEqual(3);
    // Every message once, newest first.
    expect(seen).toEqual([...sent].reverse());
  });

  it('a page cut by its limit says so the same way', async () => {
    const { body } = await read('/api/v1/dead-letters?limit=1');
    expect(body.dead_letters).toHaveLength(1);
    expect(body).toMatchObject({ truncated: true, next_before_id: body.dead_letters[0].id });
  });

  it('the CLI says when an answer was cut, and how to see the rest', async () => {
    const env = { CAXTON_SERVER: node.url, CAXTON_API_KEY: key };
    const shown = await runCli(['conversation', 'show', 'big'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/more messages follow .*: caxton conversation show big --after \d+\.\d+\n$/);
    const after = /--after (\S+)\n$/.exec(shown.stdout)![1];
    expect((await runCli(['conversation', 'show', 'big', '--after', after], env)).code).toBe(0);

    const letters = await runCli(['queue', 'dead-letters'], env);
    expect(letters.code, letters.stderr).toBe(0);
    expect(letters.stdout).toMatch(/older dead letters follow: caxton queue dead-letters --before-id \d+\n$/);
  }, 60_000);

  it('MCP get_conversation: the same parts, after = next_after reads the rest', async () => {
    const client = new Client({ name: 'caxton-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${node.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    try {
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const result = (await client.callTool({ name: 'get_conversation', arguments: { conversation_id: 'big', ...(after ? { after } : {}) } })) as CallToolResult;
        expect(result.isError, JSON.stringify(result.content).slice(0, 300)).toBeFalsy();
        const page = result.structuredContent as { messages: { message_id: string }[]; truncated?: boolean; next_after?: string };
        seen.push(...bigOnes(page.messages));
        pages++;
        if (!page.truncated) break;
        after = page.next_after;
      }
      expect(pages).toBeGreaterThan(1);
      expect(new Set(seen)).toEqual(sent);
    } finally {
      await client.close();
    }
  });
});
