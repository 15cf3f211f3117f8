// Issue 12's rolling upgrade on real processes: three nodes, agents spread over them, a client sending
// requests the whole time, and `caxton cluster upgrade --restart-command ...` draining, restarting (stop and
// start the same code, same data dir and ports) and re-admitting each node in turn. Every request the nodes
// accepted is answered `inform` (counted); requests are sent only to nodes the restart hook has not taken
// down and have been re-admitted, as a load balancer would, and a refused connection (never accepted) is
// retried on another node. ROLLING_UPGRADE_STEPS_FILE (optional) receives the run's figures as a JSON line.
import { appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleModule } from '../helpers/modules.ts';
import { runCli, startNode } from '../helpers/node-process.ts';
import { api, members, startTokenCluster, waitUntil, type ClusterNode } from '../cluster/node/cluster-processes.ts';

const IDS = ['ru-1', 'ru-2', 'ru-3'];
let nodes: ClusterNode[] = [];
const down = new Set<string>();
let hook: Server | undefined;
const restarts: string[] = [];
const retired: ClusterNode[] = [];
let agentCount = 0;

async function restart(id: string): Promise<void> {
  const old = nodes.find((n) => n.id === id)!;
  down.add(id);
  restarts.push(id);
  // Give requests already sent to it a moment to be accepted: the leave finishes them before it stops.
  await new Promise((r) => setTimeout(r, 200));
  expect(await old.kill('SIGTERM')).toBe(0);
  retired.push(old);
  const other = nodes.find((n) => n.id !== id)!;
  const fresh = await startNode({
    nodeId: id,
    dataDir: old.dataDir,
    apiPort: old.apiPort,
    gossipPort: old.gossipPort,
    args: ['--join', `127.0.0.1:${other.gossipPort}`],
    env: { CAXTON_LOG_LEVEL: 'info' },
  });
  nodes = nodes.map((n) => (n.id === id ? Object.assign(fresh, { id }) : n));
  // A load balancer sends clients to a restarted node once it is re-admitted (docs/operations.md): the others
  // list it alive and it knows the cluster's agents. Before that it may not know where an agent runs yet.
  await waitUntil(`${id} re-admitted`, 60_000, async () => {
    const status = (await api<any>(fresh, 'GET', '/api/v1/cluster/status')).body;
    const seen = await Promise.all(nodes.filter((n) => n.id !== id).map(async (n) => (await members(n)).some((m) => m.id === id && m.state === 'alive')));
    return status.health === 'healthy' && status.agents >= agentCount && seen.every(Boolean);
  });
  down.delete(id);
}

beforeAll(async () => {
  nodes = await startTokenCluster(IDS);
  hook = createServer((req, res) => {
    const id = /^\/restart\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    if (!id || !IDS.includes(id)) return void res.writeHead(404).end();
    restart(id).then(
      () => res.writeHead(200).end('restarted\n'),
      (error: Error) => {
        console.error(`restart of ${id} failed: ${error.message}`);
        res.writeHead(500).end(error.message);
      },
    );
  });
  await new Promise<void>((r) => hook!.listen(0, '127.0.0.1', r));
}, 150_000);

afterAll(async () => {
  hook?.close();
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
});

describe('rolling upgrade', { timeout: 300_000 }, () => {
  it('cluster upgrade restarts all three nodes one at a time while every request is answered', async () => {
    const module = Buffer.from(exampleModule('echo')).toString('base64');
    const names = Array.from({ length: 6 }, (_, i) => `roll-${i}`);
    agentCount = names.length;
    for (const name of names) expect((await api<any>(nodes[0], 'POST', '/api/v1/agents', { name, module })).status).toBe(201);
    await waitUntil('every agent known on every node', 10_000, async () => {
      const views = await Promise.all(nodes.map((n) => api<any>(n, 'GET', '/api/v1/agents')));
      return views.every((v) => names.every((name) => v.body.agents.some((a: any) => a.name === name)));
    });
    // Links between the nodes come up on first use; a request racing two nodes dialling each other at once can
    // be answered LINK_LOST (seen here before any upgrade step: a routing-link matter, not this test's). Warm them.
    for (const via of nodes) for (const name of names) await api<any>(via, 'POST', '/api/v1/messages?wait_ms=5000', { performative: 'request', receiver: name, content: {} });
    const startedBefore = new Map((await members(nodes[0])).map((m: any) => [m.id, m.started_at]));

    let stop = false;
    let sent = 0;
    let refused = 0;
    const answers: Record<string, number> = {};
    const client = async (worker: number): Promise<void> => {
      for (let i = worker; !stop; i += 4) {
        const up = nodes.filter((n) => !down.has(n.id));
        const via = up[i % up.length];
        let r: Response;
        try {
          r = await fetch(`${via.url}/api/v1/messages?wait_ms=15000`, {
            method: 'POST',
            headers: { authorization: `Bearer ${via.apiKey()}`, 'content-type': 'application/json' },
            body: JSON.stringify({ performative: 'request', receiver: names[i % names.length], content: { i } }),
          });
        } catch {
          refused++; // the connection failed: the node never accepted it; the next try goes elsewhere
          await new Promise((res) => setTimeout(res, 20));
          continue;
        }
        sent++;
        const body = (await r.json()) as any;
        const reply = body?.replies?.[0];
        const key = reply ? (reply.performative === 'inform' ? 'inform' : `${reply.performative}:${reply.content?.error?.code}`) : `none:${r.status}`;
        answers[key] = (answers[key] ?? 0) + 1;
      }
    };
    const clients = [0, 1, 2, 3].map(client);
    await waitUntil('answers before the upgrade', 10_000, () => sent >= 40);

    const command = `node -e "fetch('http://127.0.0.1:${(hook!.address() as { port: number }).port}/restart/{node}').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`;
    const upgraded = await runCli(['cluster', 'upgrade', '--restart-command', command, '--timeout', '90000', '--output', 'json'], {
      CAXTON_SERVER: nodes[0].url,
      CAXTON_API_KEY: nodes[0].apiKey(),
    });
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const steps = JSON.parse(upgraded.stdout).upgraded as Array<{ node: string; moved: number }>;
    // The node the CLI talks to goes last.
    expect(steps.map((s) => s.node)).toEqual(['ru-2', 'ru-3', 'ru-1']);
    expect(restarts).toEqual(['ru-2', 'ru-3', 'ru-1']);
    expect(upgraded.stderr).toMatch(/ru-2: draining/);

    const after = sent;
    await waitUntil('answers after the upgrade', 20_000, () => sent >= after + 40);
    stop = true;
    await Promise.all(clients);
    if (process.env.ROLLING_UPGRADE_STEPS_FILE) {
      appendFileSync(process.env.ROLLING_UPGRADE_STEPS_FILE, `${JSON.stringify({ sent, answers, refused, steps })}\n`);
    }
    console.log(`rolling upgrade: ${sent} requests accepted, answers ${JSON.stringify(answers)}, ${refused} connections refused by a stopping node (retried elsewhere); steps ${JSON.stringify(steps)}`);
    if (process.env.LEAVE_DEBUG) {
      for (const n of nodes) console.log(n.id, JSON.stringify((await api<any>(n, 'GET', '/api/v1/dead-letters?limit=3')).body).slice(0, 1500));
      for (const n of [...retired, ...nodes]) {
        console.log(`--- ${n.id} ---\n` + n.output().split('\n').filter((l) => /routing|drain|member changed|failover|adopt|warn|error|leav|draining/.test(l)).map((l) => l.slice(0, 260)).join('\n'));
      }
    }
    // Every request the nodes accepted is answered inform: none lost, none refused. A client's message a draining
    // node forwards names the client's node, so the owner's reply goes there and not back through the node
    // being restarted (issue 12: 1 request of 13,623 once went unanswered that way).
    expect(answers).toEqual({ inform: sent });
    const rows = await members(nodes[0]);
    for (const id of IDS) {
      const row = rows.find((m: any) => m.id === id) as any;
      expect(row).toMatchObject({ state: 'alive' });
      expect(row.draining).toBeUndefined();
      expect(row.started_at).not.toBe(startedBefore.get(id));
    }
    const total = (await api<any>(nodes[0], 'GET', '/api/v1/agents')).body.agents.filter((a: any) => names.includes(a.name));
    expect(total).toHaveLength(names.length);
  });
});
