// Fuzz: the requests a peer sends over the routing link to AgentOperations (agent.deploy, upgrade, delete,
// control, get, logs, adopt, module.get). Whatever the body — garbage, wrong types, deep nesting, huge
// strings — a handler never throws into the link and always answers `{ok}` or `{error: {code, message}}`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AgentOperations, type PeerRpc } from '../../src/node/agent-operations.ts';
import type { AgentService } from '../../src/node/agent-service.ts';
import type { AgentInfo } from '../../src/node/services.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';

type Handler = (from: string, body: unknown) => unknown;

function servedHandlers(): Map<string, Handler> {
  const handlers = new Map<string, Handler>();
  const rpc: PeerRpc = {
    // The asking peer is gone: any fetch back to it fails, as a dead link would.
    request: async () => {
      throw new Error('link lost');
    },
    onRequest: (method, handler) => handlers.set(method, handler),
  };
  // Every service call answers as the real one may: a result, or a CaxtonError.
  const agents = new Proxy(
    {},
    {
      get: () => async (name: unknown) => {
        if (typeof name === 'string' && name.startsWith('x')) throw new CaxtonError('AGENT_NOT_FOUND', 'no such agent');
        return { name, node: 'n2' } as AgentInfo;
      },
    },
  ) as unknown as AgentService;
  new AgentOperations({
    nodeId: 'n2',
    agents,
    local: { has: () => true, info: (name) => ({ name, node: 'n2' }) as AgentInfo, logs: () => [] },
    modules: { get: () => undefined, size: () => undefined },
    nodeOf: () => 'n2',
    liveNodes: () => ['n1', 'n2'],
    rpc,
    logger: createLogger({ level: 'silent', node: 'n2' }),
  });
  return handlers;
}

const deep = (depth: number): unknown => (depth === 0 ? 'x' : depth % 2 ? { name: deep(depth - 1) } : [deep(depth - 1)]);

const body = fc.oneof(
  fc.anything(),
  fc.record({
    name: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.string({ minLength: 5000, maxLength: 6000 })),
    action: fc.oneof(fc.constantFrom('stop', 'start', 'restart', 'rollback', 'constructor', '__proto__', 'delete'), fc.anything()),
    sha256: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.anything()),
    origin: fc.oneof(fc.string(), fc.anything()),
    spec: fc.anything(),
    afterSeq: fc.anything(),
    limit: fc.anything(),
  }, { requiredKeys: [] }),
  fc.integer({ min: 1, max: 400 }).map(deep),
);

describe('fuzz: peer requests to AgentOperations', () => {
  const handlers = servedHandlers();
  const methods = [...handlers.keys()];

  it('serves the methods the cluster uses', () => {
    expect(methods).toEqual(expect.arrayContaining(['agent.deploy', 'agent.upgrade', 'agent.delete', 'agent.control', 'agent.get', 'agent.logs', 'agent.adopt', 'module.get']));
  });

  it('any body to any method: never a throw, always {ok} or {error: {code, message}}', { timeout: fuzzTimeoutMs() }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), fc.string({ maxLength: 40 }), body, async (method, from, input) => {
        let answer: unknown;
        try {
          answer = await handlers.get(method)!(from, input);
        } catch (error) {
          throw new Error(`${method} threw: ${(error as Error)?.message}`);
        }
        expect(typeof answer).toBe('object');
        const keys = Object.keys(answer as object);
        expect(keys.length).toBe(1);
        if (keys[0] === 'error') {
          const error = (answer as { error: { code: unknown; message: unknown } }).error;
          expect(typeof error.code).toBe('string');
          expect(typeof error.message).toBe('string');
        } else {
          expect(keys[0]).toBe('ok');
        }
      }),
      fuzzParameters(),
    );
  });
});
