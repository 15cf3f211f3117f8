// The gateway against an MCP server that attacks it (test/tools/fixtures/hostile-mcp-server.mjs): a tools/list
// that pages for ever or lists huge tools, and an outputSchema made to backtrack. Each must cost the node a
// bounded amount, and the agent's call must still end in an answer within its timeout.
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import { McpToolGateway } from '../../src/tools/mcp-tool-gateway.ts';

const hostileServer = join(new URL('../..', import.meta.url).pathname, 'test/tools/fixtures/hostile-mcp-server.mjs');
const CALL_TIMEOUT_MS = 3_000;

function gateway(env: Record<string, string>): McpToolGateway {
  return new McpToolGateway({
    servers: { hostile: { command: process.execPath, args: [hostileServer], env } },
    callTimeoutMs: CALL_TIMEOUT_MS,
    maxResultBytes: 1024 * 1024,
    maxCallsPerServer: 64,
    maxCallsPerAgent: 16,
    startTimeoutMs: 20_000,
    restartBackoffMs: 200,
    restartBackoffMaxMs: 2_000,
    builtins: {},
    logger: { info() {}, warn() {} },
  });
}

/** A call naming a tool the cache lacks refreshes the list, at most every 5 s: move the clock past that. */
async function callUnknownAfterRefreshWindow(tools: McpToolGateway): Promise<{ error: unknown; ms: number }> {
  expect((await tools.call('a', 'hostile', 'echo', { text: 'hi' })) as object).toMatchObject({ content: [{ text: 'hi' }] });
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + 6_000);
  const started = performance.now();
  const outcome = await Promise.race([
    tools.call('a', 'hostile', 'nope', {}).then(() => 'answered', (error: unknown) => error),
    new Promise((resolve) => setTimeout(() => resolve('no answer'), CALL_TIMEOUT_MS + 5_000)),
  ]);
  return { error: outcome, ms: performance.now() - started };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a hostile MCP server', () => {
  it('paging tools/list for ever: the call naming an unknown tool is still answered, within its timeout', async () => {
    const tools = gateway({ HOSTILE_LIST: 'endless' });
    try {
      const { error, ms } = await callUnknownAfterRefreshWindow(tools);
      expect(error).toBeInstanceOf(CaxtonError);
      expect((error as CaxtonError).code).toBe('UNKNOWN_TOOL');
      expect(ms).toBeLessThan(CALL_TIMEOUT_MS + 1_000);
    } finally {
      await tools.close();
    }
  }, 30_000);

  it('listing huge tools page after page: the cache keeps a bounded number of clipped tools', async () => {
    const tools = gateway({ HOSTILE_LIST: 'fat' });
    try {
      await callUnknownAfterRefreshWindow(tools);
      const listed = tools.list('hostile')[0].tools;
      // 10 tools a page, 100 pages at most; each description clipped from 64 KiB.
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.length).toBeLessThanOrEqual(1_000);
      expect(Math.max(...listed.map((t) => t.description?.length ?? 0))).toBeLessThanOrEqual(2048);
    } finally {
      await tools.close();
    }
  }, 30_000);

  it('an outputSchema with a backtracking pattern does not block the node: the result comes back at once', async () => {
    const tools = gateway({ HOSTILE_REDOS_LENGTH: '40' });
    try {
      await tools.call('a', 'hostile', 'echo', { text: 'warm' });
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 20);
      const started = performance.now();
      const result = (await tools.call('a', 'hostile', 'redos', {})) as { structuredContent: { s: string } };
      const ms = performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
      clearInterval(ticker);
      expect(result.structuredContent.s).toMatch(/^a{40}!$/);
      expect(ms).toBeLessThan(1_000);
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await tools.close();
    }
  }, 30_000);

  it('a result nested deeper than content may be is a TOOL_ERROR, not content (on its way to a worker it was lost with its batch)', async () => {
    const tools = gateway({ HOSTILE_DEPTH: '1000' });
    try {
      const outcome = await tools.call('a', 'hostile', 'deep', {}).then(
        () => 'answered',
        (error: unknown) => error,
      );
      expect(outcome).toBeInstanceOf(CaxtonError);
      expect((outcome as CaxtonError).code).toBe('TOOL_ERROR');
      expect((outcome as CaxtonError).message).toMatch(/nested deeper than 128/);
      // A shallow answer of the same server still comes through.
      expect((await tools.call('a', 'hostile', 'echo', { text: 'hi' })) as object).toMatchObject({ content: [{ text: 'hi' }] });
    } finally {
      await tools.close();
    }
  }, 30_000);
});

