// Issue 12's rolling-upgrade defect on real processes, made to happen every time: a client on node A keeps
// many requests waiting for a slow agent on node D; D leaves (SIGTERM: drain, linger, stop), so the drain
// forwards the agent's queued requests to its new owner O, and O is still answering them after D has stopped.
// Every request must be answered `inform` on A. Before the fix O sent each reply back through D (the node the
// forwarded message came from), and those after D stopped were lost: the client waited its 15 s in silence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { rendezvousOwner } from '../../src/cluster/placement/rendezvous.ts';
import { compileWat, exampleWasm } from '../helpers/modules.ts';
import { api, startTokenCluster, waitUntil, type ClusterNode } from '../cluster/node/cluster-processes.ts';

const IDS = ['df-1', 'df-2', 'df-3'];
const CLIENT_NODE = 'df-1';
/** Concurrent requests waiting on the slow agent when its node leaves. */
const REQUESTS = 400;
/**
 * Busy-loop iterations before each echo: ~10-20 ms per message here, far below agents.max_invocation_ms, and
 * short enough that the scheduler's turns keep the node's gossip answered (40M, ~0.6 s each, got it declared dead).
 */
const SPIN = 3_000_000;
/**
 * A short linger after the hand-over (default 3 s): the leaving node stops while the owner is still answering.
 * Not 0: the node's own forwards after the switch need a moment too (with 0, a forward its link had not
 * confirmed when it closed was answered failure on that node, which could no longer reach the client).
 */
const LINGER_ENV = { CAXTON_CLUSTER_DRAIN_LINGER_MS: '1000' };
let nodes: ClusterNode[] = [];
const node = (id: string): ClusterNode => nodes.find((n) => n.id === id)!;

/** The WAT echo example, spinning SPIN times before it answers each message. */
async function slowEcho(): Promise<string> {
  const source = readFileSync(exampleWasm('echo').replace(/build\/echo\.wasm$/, 'agents/wat/echo.wat'), 'utf8');
  const head = '(func (export "handle_message") (param $ptr i32) (param $len i32) (result i32)\n    (local $end i32) (local $v i32) (local $start i32)';
  expect(source).toContain(head);
  const spun = source.replace(head, `${head} (local $spin i32)\n    (local.set $spin (i32.const ${SPIN}))\n    (loop $busy (local.set $spin (i32.sub (local.get $spin) (i32.const 1))) (br_if $busy (i32.gt_s (local.get $spin) (i32.const 0))))`);
  return Buffer.from(await compileWat(spun, 'slow-echo.wat')).toString('base64');
}

/** A name placed on a node other than the client's, whose owner after that node leaves is the third node. */
function agentName(): { name: string; from: string; to: string } {
  for (let i = 0; ; i++) {
    const name = `slow-${i}`;
    const from = rendezvousOwner(name, IDS)!;
    if (from === CLIENT_NODE) continue;
    const to = rendezvousOwner(name, IDS.filter((n) => n !== from))!;
    if (to !== CLIENT_NODE) return { name, from, to };
  }
}

beforeAll(async () => {
  nodes = await startTokenCluster(IDS, { env: LINGER_ENV });
}, 150_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
});

describe('a drain forwards waiting client requests, and its node stops before the new owner answers them', { timeout: 180_000 }, () => {
  it('every request is answered inform on the client\'s node', async () => {
    const { name, from, to } = agentName();
    const deployed = await api<any>(node(CLIENT_NODE), 'POST', '/api/v1/agents', { name, module: await slowEcho(), limits: { fuel: 1_000_000_000 } });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(201);
    expect(deployed.body.node).toBe(from);
    const client = node(CLIENT_NODE);
    await waitUntil(`${name} known on ${CLIENT_NODE}`, 10_000, async () => (await api<any>(client, 'GET', `/api/v1/agents/${name}`)).body.node === from);
    // One answered request first: the routing links between the nodes are up before the burst.
    expect((await api<any>(client, 'POST', '/api/v1/messages?wait_ms=15000', { performative: 'request', receiver: name, content: { warm: true } })).body.replies?.[0]?.performative).toBe('inform');

    const answers: Record<string, number> = {};
    const requests = Array.from({ length: REQUESTS }, async (_, i) => {
      const r = await api<any>(client, 'POST', '/api/v1/messages?wait_ms=15000', { performative: 'request', receiver: name, content: { i } });
      const reply = r.body?.replies?.[0];
      const key = reply ? (reply.performative === 'inform' ? 'inform' : `${reply.performative}:${reply.content?.error?.code}`) : `none:${r.status}`;
      answers[key] = (answers[key] ?? 0) + 1;
    });
    // The requests are queued at the agent (it answers one per tens of ms); then its node leaves.
    await new Promise((r) => setTimeout(r, 300));
    const leaving = node(from);
    expect(await leaving.kill('SIGTERM')).toBe(0);
    await Promise.all(requests);

    const drained = leaving
      .output()
      .split('\n')
      .filter((l) => l.includes('"drain: agents handed over"'))
      .map((l) => JSON.parse(l) as { moved: number; forwarded: number });
    console.log(`drain of ${from} (agent ${name} to ${to}): ${JSON.stringify(drained)}; answers on ${CLIENT_NODE}: ${JSON.stringify(answers)}`);
    if (process.env.DRAIN_FORWARD_DEBUG) {
      for (const n of nodes.filter((x) => x.id !== from)) console.log(`dead letters ${n.id}: ${JSON.stringify((await api<any>(n, 'GET', '/api/v1/dead-letters?limit=3')).body).slice(0, 1500)}`);
      for (const n of nodes) console.log(`--- ${n.id} ---\n` + n.output().split('\n').filter((l) => /routing|drain|member|adopt|warn|error|leav|handed|agent/.test(l)).map((l) => l.slice(0, 300)).join('\n'));
    }
    // The case under test happened: the drain forwarded queued requests to the new owner.
    expect(drained[0]?.moved).toBe(1);
    expect(drained[0]?.forwarded).toBeGreaterThan(0);
    expect(answers).toEqual({ inform: REQUESTS });
    expect((await api<any>(client, 'GET', `/api/v1/agents/${name}`)).body.node).toBe(to);
  });
});
