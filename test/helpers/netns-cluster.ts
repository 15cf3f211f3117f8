// Caxton nodes in network namespaces (test/helpers/netns.ts): each node in its own namespace, API and gossip
// on its bridge address, the first bootstrapping and the others joining it with a join token. Shared by the
// partition test and bench/failover.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleModule } from './modules.ts';
import { cliPath, NODE_START_TIMEOUT_MS, outputTail, tempDataDir } from './node-process.ts';
import type { NetnsLab, NsChild, NsHost } from './netns.ts';

export interface NsNode {
  id: string;
  host: NsHost;
  url: string;
  dataDir: string;
  proc: NsChild;
  apiKey(): string;
  output(): string;
}

export function startNsNode(lab: NetnsLab, id: string, host: NsHost, extra: string[]): NsNode {
  const dataDir = tempDataDir('caxton-ns-');
  const proc = lab.spawn(
    host,
    process.execPath,
    [cliPath, 'server', 'start', '--node-id', id, '--data-dir', dataDir, '--bind-addr', `${host.ip}:7946`, '--api-addr', `${host.ip}:8080`, ...extra],
    { CAXTON_LOG_LEVEL: 'info' },
  );
  return {
    id,
    host,
    url: `http://${host.ip}:8080`,
    dataDir,
    proc,
    apiKey: () => readFileSync(join(dataDir, 'admin.key'), 'utf8').trim(),
    output: () => proc.output(),
  };
}

export async function nsCall<T = any>(node: NsNode, method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<{ status: number; body: T }> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.apiKey()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Polls `check` (a failed request counts as false) until it holds; the time it took, or throws with the nodes' cluster log lines. */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, nodes: NsNode[] = []): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      if (await check()) return Date.now() - started;
    } catch {
      // Not up yet, or a request cut: try again.
    }
    if (Date.now() - started > timeoutMs) {
      const logs = nodes.map((n) => `--- ${n.id}\n${n.output().split('\n').filter((l) => /failover|member changed|error|duplicate/.test(l)).slice(-15).join('\n')}`).join('\n');
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function nsMembers(n: NsNode): Promise<{ id: string; state: string }[]> {
  return (await nsCall(n, 'GET', '/api/v1/cluster/members')).body.members;
}

/** True when `n` lists every id in `ids` in `state`. */
export async function sees(n: NsNode, ids: string[], state: string): Promise<boolean> {
  const rows = await nsMembers(n);
  return ids.every((id) => rows.some((r) => r.id === id && r.state === state));
}

/** The agents `n` runs itself (its runtime). */
export async function localAgents(n: NsNode): Promise<string[]> {
  return ((await nsCall<{ agents: { name: string }[] }>(n, 'GET', `/api/v1/agents?node=${n.id}`)).body.agents ?? []).map((a) => a.name);
}

/** The agents `n` runs itself and that are running there (not still starting): what answers messages. */
export async function runningAgents(n: NsNode): Promise<string[]> {
  const listed = (await nsCall<{ agents: { name: string; state: string }[] }>(n, 'GET', `/api/v1/agents?node=${n.id}`)).body.agents ?? [];
  return listed.filter((a) => a.state === 'running').map((a) => a.name);
}

/** Waits until `node` answers /health with its admin key written; on timeout, the error quotes its output's tail. */
async function waitForStart(node: NsNode): Promise<void> {
  try {
    await waitFor(`${node.id} to start`, NODE_START_TIMEOUT_MS, async () => existsSync(join(node.dataDir, 'admin.key')) && (await fetch(`${node.url}/health`, { signal: AbortSignal.timeout(2_000) })).ok);
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${outputTail(node.output())}`);
  }
}

/** One host per id, the first node bootstrapping, the others joining it with a token; resolves when all see all alive. */
export async function startNsCluster(lab: NetnsLab, ids: string[]): Promise<NsNode[]> {
  const hosts = ids.map((_, i) => lab.addHost(`h${i + 1}`));
  const nodes = [startNsNode(lab, ids[0], hosts[0], ['--bootstrap'])];
  await waitForStart(nodes[0]);
  const token = (await nsCall<{ token: string }>(nodes[0], 'POST', '/api/v1/cluster/token', {})).body.token;
  for (let i = 1; i < ids.length; i++) nodes.push(startNsNode(lab, ids[i], hosts[i], ['--join', `${hosts[0].ip}:7946`, '--token', token]));
  // The joiners start meanwhile: as long as a start may take, and then the joins.
  await waitFor(`${ids.length} alive everywhere`, NODE_START_TIMEOUT_MS + 20_000, async () => (await Promise.all(nodes.map((n) => sees(n, ids, 'alive')))).every(Boolean), nodes);
  return nodes;
}

/** True when the echo agent answers a request sent through `via` with an inform. */
export async function echoAnswers(via: NsNode): Promise<boolean> {
  const r = await nsCall(via, 'POST', '/api/v1/messages?wait_ms=3000', { performative: 'request', receiver: 'echo', content: { probe: true } });
  return r.status === 200 && r.body.replies?.[0]?.performative === 'inform';
}

/** Deploys the example echo agent as `echo` pinned to node `on`, through `nodes[0]`, and waits until it answers there. */
export async function deployEcho(nodes: NsNode[], on: string): Promise<void> {
  const module = Buffer.from(exampleModule('echo')).toString('base64');
  const deployed = await nsCall(nodes[0], 'POST', '/api/v1/agents', { name: 'echo', module, node: on }, 30_000);
  if (deployed.status !== 201) throw new Error(`deploying echo on ${on}: ${deployed.status} ${JSON.stringify(deployed.body)}`);
  await waitFor('echo answering through the first node', 15_000, () => echoAnswers(nodes[0]), nodes);
}

/**
 * Polls every node's member list while `during` runs; the states each member was seen in meanwhile. A node
 * that does not answer (frozen, or slow behind a fault) is skipped for that round: that is the fault.
 */
export async function memberStatesSeen(nodes: NsNode[], during: Promise<void>): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>();
  let done = false;
  void during.finally(() => (done = true));
  while (!done) {
    for (const n of nodes) {
      try {
        const rows = (await nsCall<{ members: { id: string; state: string }[] }>(n, 'GET', '/api/v1/cluster/members', undefined, 3000)).body.members;
        for (const r of rows) (seen.get(r.id) ?? seen.set(r.id, new Set()).get(r.id)!).add(r.state);
      } catch {
        // Skipped this round.
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return seen;
}
