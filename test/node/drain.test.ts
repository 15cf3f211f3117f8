// NodeDrain's rules with every part injected: per agent, the owner is the rendezvous choice among the other
// candidates; the owner adopts it first; then, in one step, the name points at the owner, the agent leaves
// the runtime and its queued messages are forwarded in order; a refusal tries the next node; pinned agents
// stay; a message that cannot be forwarded is answered.
import { describe, expect, it } from 'vitest';
import { rendezvousOwner } from '../../src/cluster/placement/rendezvous.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { NodeDrain, type DrainParts } from '../../src/node/drain.ts';
import type { AgentInfo, AgentSpec } from '../../src/node/services.ts';

const spec = (name: string, node?: string): AgentSpec => ({
  name,
  capabilities: ['c'],
  tools: {},
  limits: { memory_pages: 1, fuel: 1, mailbox: 10 },
  ...(node ? { node } : {}),
});
const msg = (n: number): AclMessage => ({ performative: 'request', sender: 'client:a', receiver: 'x', content: n, message_id: `m${n}`, conversation_id: `c${n}` }) as AclMessage;

function harness(agents: Record<string, { pinned?: string; queued?: number }>, options: { refuse?: string[]; candidates?: string[]; unreachable?: boolean } = {}) {
  const log: string[] = [];
  const local = new Set(Object.keys(agents));
  const forwarded: Array<[string, string, unknown]> = [];
  const answered: string[] = [];
  let draining = false;
  const parts: DrainParts = {
    nodeId: 'self',
    localAgents: () => [...local],
    handoverRecord: (name) => (local.has(name) ? { spec: spec(name, agents[name].pinned), module: new Uint8Array([1]), version: 4, state: 'running' } : undefined),
    moduleOf: () => 'sha',
    candidates: () => options.candidates ?? ['self', 'n1', 'n2', 'n3'],
    setDraining: (on) => (draining = on),
    handOver: async (node, record) => {
      log.push(`adopt ${record.spec.name}@${node} v${record.version}`);
      if (options.refuse?.includes(node)) throw new Error(`${node} refuses`);
      return { name: record.spec.name, node } as AgentInfo;
    },
    routeTo: (name, node) => log.push(`route ${name}->${node}`),
    registry: { disown: (name) => log.push(`disown ${name}`) },
    release: (name) => {
      log.push(`release ${name}`);
      local.delete(name);
      return Array.from({ length: agents[name].queued ?? 0 }, (_, i) => msg(i));
    },
    forget: (name) => log.push(`forget ${name}`),
    pruneModules: () => log.push('prune'),
    forward: (node, m, receiver) => {
      forwarded.push([node, receiver, m.content]);
      return !options.unreachable;
    },
    undeliverable: (m, receiver) => answered.push(`${receiver}:${String(m.content)}`),
    lingerMs: 5,
    concurrency: 4,
    logger: { info() {}, warn() {}, debug() {}, error() {}, child() { return this; } } as unknown as DrainParts['logger'],
    sleep: async () => {},
  };
  return { drain: new NodeDrain(parts), log, forwarded, answered, local, draining: () => draining };
}

describe('drain', () => {
  it('moves each agent to its rendezvous owner among the others, forwarding its queue in order after the switch', async () => {
    const h = harness({ a: { queued: 3 }, b: {} });
    const report = await h.drain.drain();
    expect(h.draining()).toBe(true);
    const ownerA = rendezvousOwner('a', ['n1', 'n2', 'n3'])!;
    expect(report).toMatchObject({ node: 'self', moved: 2, forwarded: 3, undeliverable: 0, pinned: [], failed: [] });
    expect(report.owners.a).toBe(ownerA);
    const a = h.log.filter((l) => / a[@ -]|\ba$/.test(l) || l.endsWith(' a'));
    expect(a).toEqual([`adopt a@${ownerA} v4`, `route a->${ownerA}`, 'disown a', 'release a', 'forget a']);
    expect(h.forwarded).toEqual([0, 1, 2].map((i) => [ownerA, 'a', i]));
    expect(h.local.size).toBe(0);
    expect(h.log.at(-1)).toBe('prune');
  });

  it('tries the next node when the owner refuses, and reports an agent no node takes', async () => {
    const first = rendezvousOwner('a', ['n1', 'n2'])!;
    const second = first === 'n1' ? 'n2' : 'n1';
    const h = harness({ a: {} }, { candidates: ['self', 'n1', 'n2'], refuse: [first] });
    expect((await h.drain.drain()).owners).toEqual({ a: second });
    const none = harness({ a: {} }, { candidates: ['self', 'n1'], refuse: ['n1'] });
    const report = await none.drain.drain();
    expect(report.moved).toBe(0);
    expect(report.failed).toEqual([{ agent: 'a', error: expect.stringContaining('n1 refuses') }]);
    expect(none.local.has('a')).toBe(true); // it keeps running here
  });

  it('leaves a pinned agent where it is, and answers queued messages it cannot forward', async () => {
    const h = harness({ p: { pinned: 'self' }, q: { queued: 2 } }, { unreachable: true });
    const report = await h.drain.drain();
    expect(report.pinned).toEqual(['p']);
    expect(report).toMatchObject({ moved: 1, forwarded: 0, undeliverable: 2 });
    expect(h.answered).toEqual(['q:0', 'q:1']);
    expect(h.local.has('p')).toBe(true);
  });

  it('with no other node, nothing moves and every agent is reported', async () => {
    const h = harness({ a: {}, b: {} }, { candidates: ['self'] });
    const report = await h.drain.drain();
    expect(report.moved).toBe(0);
    expect(report.failed.map((f) => f.agent).sort()).toEqual(['a', 'b']);
    h.drain.undrain();
    expect(h.draining()).toBe(false);
  });
});
