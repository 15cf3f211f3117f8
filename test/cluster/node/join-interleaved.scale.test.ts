// Issue 9, finding (a): a node contacted while its own --join was still under way handed the newcomer a
// partial view that stayed partial until the next full-state sync (4.6–10 s and more). Five real processes
// started in interleaved orders, each joining another (possibly not yet started): every node lists all five
// within a few seconds of the last start, whatever the order. The figure measured is printed.
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startNode, type NodeProcess } from '../../helpers/node-process.ts';
import { members, stopAll } from './cluster-processes.ts';

const running: NodeProcess[] = [];
afterEach(() => stopAll(running.splice(0)));

/**
 * The issue asks for 1 s, and a quiet machine does it in 62–303 ms (the figure is printed). Beside the rest of
 * the suite on two cores, gossip rounds stretch (CI saw 5.9 s, a loaded run 11.7 s). CI once saw a node of
 * "two halves joined late" lack the two members only the bootstrap node had announced, 40 s on, with the
 * full-state sync pushed out to 120 s: memberlist's 4 retransmissions under 10 nodes, to random peers, can
 * miss a node. The floor in timing.ts retransmitLimit fixed that, pinned in virtual time by
 * test/cluster/sim/small-cluster-spread.test.ts (200 seeds); the fix of finding (a), the partial view handed
 * out mid-join, by test/cluster/sim/join-in-flight.test.ts. Here the nodes keep the default sync (15 s) as
 * the backstop it is.
 */
const PUSH_PULL_INTERVAL_MS = 15_000;
const VIEW_COMPLETE_BOUND_MS = 40_000;

interface Layout {
  name: string;
  /** Node index → the index it joins (undefined: bootstraps). */
  joins: (number | undefined)[];
  /** The order the nodes start in. */
  order: number[];
}

const LAYOUTS: Layout[] = [
  { name: 'chain started backwards', joins: [undefined, 0, 1, 2, 3], order: [4, 3, 2, 1, 0] },
  { name: 'chain, middle first', joins: [undefined, 0, 1, 2, 3], order: [2, 4, 0, 3, 1] },
  { name: 'star, hub last', joins: [undefined, 0, 0, 0, 0], order: [1, 2, 3, 4, 0] },
  { name: 'two halves joined late', joins: [undefined, 0, 1, 0, 3], order: [1, 2, 4, 3, 0] },
];

describe('five nodes started in interleaved order', () => {
  for (const layout of LAYOUTS) {
    it(`every node lists all five soon after the last start: ${layout.name}`, async () => {
      const ports = await Promise.all(layout.joins.map(() => freePort()));
      const ids = layout.joins.map((_, i) => `n${i}`);
      for (const i of layout.order) {
        const target = layout.joins[i];
        const args = target === undefined ? ['--bootstrap'] : ['--join', `127.0.0.1:${ports[target]}`];
        running.push(await startNode({ nodeId: ids[i], gossipPort: ports[i], args, env: { CAXTON_LOG_LEVEL: 'info', CAXTON_GOSSIP_PUSH_PULL_INTERVAL_MS: String(PUSH_PULL_INTERVAL_MS) } }));
      }
      const lastStart = Date.now();
      const deadline = lastStart + VIEW_COMPLETE_BOUND_MS;
      let complete = false;
      let views: Awaited<ReturnType<typeof members>>[] = [];
      while (!complete && Date.now() < deadline) {
        views = await Promise.all(running.map(members));
        complete = views.every((rows) => ids.every((id) => rows.some((r) => r.id === id && r.state === 'alive')));
        if (!complete) await new Promise((r) => setTimeout(r, 50));
      }
      const elapsed = Date.now() - lastStart;
      console.log(JSON.stringify({ test: 'join-interleaved', layout: layout.name, view_complete_ms: complete ? elapsed : null }));
      if (process.env.JOIN_TIMELINE) {
        for (const n of running) {
          const lines = n.output().split('\n').filter((l) => /joined the cluster|member changed|join failed/.test(l));
          for (const l of lines) {
            const e = JSON.parse(l) as { time: string; node: string; msg: string; member?: string; state?: string };
            console.log(`${Date.parse(e.time) - lastStart} ${e.node} ${e.msg} ${e.member ?? ''} ${e.state ?? ''}`);
          }
        }
      }
      const seen = views.map((rows, i) => `${running[i].output().match(/"node":"(n\d)"/)?.[1] ?? i}: ${rows.map((r) => `${r.id}=${r.state}`).join(' ')}`);
      expect(complete, `views when the wait ended:\n${seen.join('\n')}`).toBe(true);
      expect(elapsed).toBeLessThan(VIEW_COMPLETE_BOUND_MS);
    }, 90_000);
  }
});
