// NodeDrain with a runtime whose agents run on other threads (the worker pool): after the owner adopted an
// agent, prepareRelease is awaited (the worker gives the mailbox back) and only then, in one synchronous step,
// the name points at the owner, the agent is released with everything held, and the queue is forwarded.
import { describe, expect, it } from 'vitest';
import type { AclMessage } from '../../src/messaging/message.ts';
import { NodeDrain, type DrainParts } from '../../src/node/drain.ts';
import type { AgentInfo } from '../../src/node/services.ts';

const msg = (n: number): AclMessage => ({ performative: 'request', sender: 'client:a', receiver: 'a', content: n, message_id: `m${n}`, conversation_id: `c${n}` }) as AclMessage;

describe('drain with prepareRelease', () => {
  it('awaits prepareRelease between the adoption and the switch, and forwards what release returns in order', async () => {
    const log: string[] = [];
    const local = new Set(['a']);
    let held: AclMessage[] = [];
    const forwarded: unknown[] = [];
    const parts: DrainParts = {
      nodeId: 'self',
      localAgents: () => [...local],
      handoverRecord: (name) => (local.has(name) ? { spec: { name, capabilities: [], tools: {}, limits: { memory_pages: 1, fuel: 1, mailbox: 10 } }, module: new Uint8Array([1]), version: 1, state: 'running' } : undefined),
      moduleOf: () => 'sha',
      candidates: () => ['n1'],
      setDraining: () => {},
      handOver: async (node, record) => {
        log.push(`adopt ${record.spec.name}@${node}`);
        return { name: record.spec.name, node } as AgentInfo;
      },
      prepareRelease: async (name) => {
        log.push(`prepare ${name}`);
        // The worker's mailbox comes back later; what arrives meanwhile is held after it.
        await new Promise((resolve) => setTimeout(resolve, 5));
        held = [msg(0), msg(1), msg(2)];
        log.push(`prepared ${name}`);
      },
      routeTo: (name, node) => log.push(`route ${name}->${node}`),
      registry: { disown: (name) => log.push(`disown ${name}`) },
      release: (name) => {
        log.push(`release ${name}`);
        local.delete(name);
        return held;
      },
      forget: (name) => log.push(`forget ${name}`),
      pruneModules: () => {},
      forward: (_node, m) => {
        forwarded.push(m.content);
        return true;
      },
      undeliverable: () => {},
      lingerMs: 0,
      concurrency: 1,
      logger: { info() {}, warn() {}, debug() {}, error() {}, child() { return this; } } as unknown as DrainParts['logger'],
      sleep: async () => {},
    };
    const report = await new NodeDrain(parts).drain();
    expect(log).toEqual(['adopt a@n1', 'prepare a', 'prepared a', 'route a->n1', 'disown a', 'release a', 'forget a']);
    expect(forwarded).toEqual([0, 1, 2]);
    expect(report).toMatchObject({ moved: 1, forwarded: 3, undeliverable: 0, failed: [] });
  });
});
