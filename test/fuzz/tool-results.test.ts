// The gateway's boundary with tool servers: whatever a built-in server answers (any JSON, or a throw),
// the call settles as a CallToolResult or a CaxtonError with one of tools.md's codes — never another
// exception — so the agent always gets its `inform` or `failure`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import type { BuiltinToolServer } from '../../src/tools/builtin-server.ts';
import { McpToolGateway } from '../../src/tools/mcp-tool-gateway.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

const CODES = new Set(['TIMEOUT', 'TOO_LARGE', 'SERVER_EXITED', 'UNKNOWN_TOOL', 'TOOL_ERROR', 'UNAVAILABLE', 'QUOTA_EXCEEDED']);

describe('fuzz: what a tool server answers', () => {
  it('always settles as a result object or a CaxtonError with a known code', async () => {
    let answer: () => unknown = () => null;
    const server: BuiltinToolServer = {
      name: 'state',
      tools: () => [{ name: 't', description: '', inputSchema: { type: 'object' } }],
      call: async () => answer() as never,
      close: async () => {},
    };
    const tools = new McpToolGateway({
      servers: { state: { builtin: 'state' } },
      callTimeoutMs: 1_000,
      maxResultBytes: 4096,
      maxCallsPerServer: 8,
      maxCallsPerAgent: 8,
      startTimeoutMs: 1_000,
      restartBackoffMs: 10,
      restartBackoffMaxMs: 100,
      builtins: { state: async () => server },
      logger: { info() {}, warn() {} },
    });
    const anything = fc.oneof(
      fc.jsonValue().map((v) => () => v),
      fc.record({ content: fc.jsonValue(), isError: fc.oneof(fc.boolean(), fc.jsonValue()) }).map((v) => () => v),
      fc.string().map((message) => () => {
        throw new Error(message);
      }),
      fc.jsonValue().map((v) => () => {
        throw v;
      }),
      fc.constant(() => undefined),
    );
    await fc.assert(
      fc.asyncProperty(anything, async (make) => {
        answer = make;
        try {
          const result = await tools.call('agent', 'state', 't', {});
          expect(typeof result === 'object' && result !== null && !Array.isArray(result)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(CaxtonError);
          expect(CODES.has((error as CaxtonError).code)).toBe(true);
        }
      }),
      fuzzParameters(),
    );
    await tools.close();
  }, fuzzTimeoutMs());
});
