// Agent operations across nodes at their own level: two AgentOperations joined by an in-memory request
// channel (the real one is the routing link, tested in test/cluster/routing; the whole path on real
// processes in test/e2e/three-nodes.test.ts). What matters here: the owner fetches a module it lacks and
// refuses bytes that do not match their sha256; errors cross unchanged; placement honours pins.
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { AgentOperations, type PeerRpc } from '../../src/node/agent-operations.ts';
import type { AgentService } from '../../src/node/agent-service.ts';
import type { AgentInfo } from '../../src/node/services.ts';
import { sha256Hex } from '../../src/state/module-store.ts';

type Handler = (from: string, body: unknown) => unknown;

function network() {
  const handlers = new Map<string, Map<string, Handler>>();
  let tamper: ((method: string, answer: unknown) => unknown) | undefined;
  const rpcFor = (self: string): PeerRpc => {
    handlers.set(self, new Map());
    return {
      request: async (node, method, body) => {
        const handler = handlers.get(node)?.get(method);
        if (!handler) throw new Error(`no ${method} on ${node}`);
        const answer = await handler(self, structuredClone(body));
        return tamper ? tamper(method, answer) : answer;
      },
      onRequest: (method, handler) => handlers.get(self)!.set(method, handler),
    };
  };
  return { rpcFor, setTamper: (t: typeof tamper) => (tamper = t) };
}

function ops(id: string, rpc: PeerRpc, deployed: { spec: unknown; module: Uint8Array }[], live = ['n1', 'n2'], localNames: string[] = []) {
  const agents = {
    deploy: async (spec: { name: string }, module: Uint8Array) => {
      deployed.push({ spec, module });
      return { name: spec.name, node: id } as AgentInfo;
    },
    delete: async (name: string) => {
      throw new CaxtonError('CONFLICT', `agent "${name}" is being changed by another request; try again`, { name });
    },
  } as unknown as AgentService;
  return new AgentOperations({
    nodeId: id,
    agents,
    local: { has: (name) => localNames.includes(name), info: () => ({}) as AgentInfo, logs: () => [] },
    modules: { get: () => undefined, size: () => undefined },
    nodeOf: (name) => (name === 'far' ? 'n2' : undefined),
    liveNodes: () => live,
    rpc,
    logger: createLogger({ level: 'silent', node: id }),
  });
}

describe('AgentOperations between two nodes', () => {
  const module = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);

  it('a pinned deploy runs on the pinned node, which fetches the module by sha256', async () => {
    const net = network();
    const onN2: { spec: unknown; module: Uint8Array }[] = [];
    const n1 = ops('n1', net.rpcFor('n1'), []);
    ops('n2', net.rpcFor('n2'), onN2);
    const info = await n1.deploy({ name: 'worker', node: 'n2' }, module);
    expect(info).toMatchObject({ name: 'worker', node: 'n2' });
    expect(onN2).toHaveLength(1);
    expect(sha256Hex(onN2[0].module)).toBe(sha256Hex(module));
  });

  it('refuses a module whose bytes do not match its sha256', async () => {
    const net = network();
    const onN2: { spec: unknown; module: Uint8Array }[] = [];
    const n1 = ops('n1', net.rpcFor('n1'), []);
    ops('n2', net.rpcFor('n2'), onN2);
    net.setTamper((method, answer) => (method === 'module.get' ? { ok: new Uint8Array([9, 9, 9]) } : answer));
    await expect(n1.deploy({ name: 'worker', node: 'n2' }, module)).rejects.toMatchObject({ code: 'INVALID_MODULE' });
    expect(onN2).toEqual([]);
  });

  it('carries the owner\'s error back unchanged, naming the node', async () => {
    const net = network();
    const n1 = ops('n1', net.rpcFor('n1'), []);
    ops('n2', net.rpcFor('n2'), []);
    const error = await n1.delete('far').catch((e: CaxtonError) => e);
    expect(error).toMatchObject({ code: 'CONFLICT', details: { name: 'far', node: 'n2' } });
  });

  it('refuses a pin to a node that is not a live member, naming the live ones', async () => {
    const n1 = ops('n1', network().rpcFor('n1'), []);
    await expect(n1.deploy({ name: 'worker', node: 'n9' }, module)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'node', live: ['n1', 'n2'] } });
  });

  it('a name already running here is deployed here (its conflict), never placed on another node', async () => {
    const net = network();
    const onN1: { spec: unknown; module: Uint8Array }[] = [];
    const onN2: { spec: unknown; module: Uint8Array }[] = [];
    const n1 = ops('n1', net.rpcFor('n1'), onN1, ['n2'], ['mine']);
    ops('n2', net.rpcFor('n2'), onN2, ['n2']);
    await n1.deploy({ name: 'mine' }, module);
    expect(onN1).toHaveLength(1);
    expect(onN2).toEqual([]);
  });

  it('an unknown agent is AGENT_NOT_FOUND; an unreachable owner is UNAVAILABLE', async () => {
    const n1 = ops('n1', network().rpcFor('n1'), []);
    await expect(n1.control('ghost', 'stop')).rejects.toMatchObject({ code: 'AGENT_NOT_FOUND' });
    await expect(n1.control('far', 'stop')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
