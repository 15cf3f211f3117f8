// Real Caxton processes forming a cluster on loopback, for the membership tests and bench/cluster-real.ts.
// Membership changes are read from each node's own log lines ("member changed", with the node's clock
// time), so a state that lasts only a moment (dead, then refuted) is never missed by a polling gap.
import { startNode, type NodeProcess } from '../../helpers/node-process.ts';

export interface ClusterNode extends NodeProcess {
  id: string;
}

export interface MemberRow {
  id: string;
  address: string;
  state: string;
  agents: number;
  version: string;
}

export interface MemberChange {
  member: string;
  state: string;
  previous: string | null;
  /** ms since the epoch, from the log line. */
  at: number;
}

export async function startClusterNode(id: string, args: string[] = [], env: Record<string, string> = {}): Promise<ClusterNode> {
  const node = await startNode({ nodeId: id, args, env: { CAXTON_LOG_LEVEL: process.env.CLUSTER_TEST_LOG ?? 'info', ...env } });
  return Object.assign(node, { id });
}

/**
 * Runs `starts` at once and returns `started` followed by what they started. When any start fails, every node
 * that did start (and those in `started`) is killed once the other starts have settled, and the first failure
 * is rethrown: a suite whose set-up failed leaves no node running behind it.
 */
export async function startAllOrStop<T extends NodeProcess>(starts: Array<() => Promise<T>>, started: T[] = []): Promise<T[]> {
  const results = await Promise.allSettled(starts.map((start) => start()));
  const up = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await stopAll([...started, ...up]);
    throw failure.reason;
  }
  return [...started, ...up];
}

/** n nodes: the first bootstraps, the others join it (all started at once); none left running if one fails. */
export async function startCluster(n: number, prefix: string, args: string[] = [], env: Record<string, string> = {}): Promise<ClusterNode[]> {
  const first = await startClusterNode(`${prefix}-0`, ['--bootstrap', ...args], env);
  return startAllOrStop(
    Array.from({ length: n - 1 }, (_, i) => () => startClusterNode(`${prefix}-${i + 1}`, ['--join', `127.0.0.1:${first.gossipPort}`, ...args], env)),
    [first],
  );
}

/**
 * `ids[0]` bootstraps and the others join it with a join token (started at once); resolves when every node
 * lists every id alive. On any failure the started nodes are killed and the failure rethrown.
 */
export async function startTokenCluster(ids: string[], options: { env?: Record<string, string>; aliveTimeoutMs?: number } = {}): Promise<ClusterNode[]> {
  const first = await startClusterNode(ids[0], ['--bootstrap'], options.env);
  let nodes = [first];
  try {
    const token = (await api<{ token: string }>(first, 'POST', '/api/v1/cluster/token', {})).body.token;
    nodes = await startAllOrStop(
      ids.slice(1).map((id) => () => startClusterNode(id, ['--join', `127.0.0.1:${first.gossipPort}`, '--token', token], options.env)),
      [first],
    );
    await waitAllAlive(nodes, ids, options.aliveTimeoutMs ?? 20_000);
    return nodes;
  } catch (error) {
    await stopAll(nodes);
    throw error;
  }
}

export async function api<T>(node: NodeProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${node.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${node.apiKey()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export async function members(node: NodeProcess): Promise<MemberRow[]> {
  return (await api<{ members: MemberRow[] }>(node, 'GET', '/api/v1/cluster/members')).body.members;
}

export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean> | boolean, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until every node lists every id in `ids` as alive. */
export async function waitAllAlive(nodes: ClusterNode[], ids: string[], timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  await waitUntil(`${ids.length} members alive on ${nodes.length} nodes`, timeoutMs, async () => {
    const views = await Promise.all(nodes.map(members));
    return views.every((rows) => ids.every((id) => rows.some((r) => r.id === id && r.state === 'alive')));
  });
  return Date.now() - started;
}

/** Every membership change this node logged. */
export function memberChanges(node: NodeProcess): MemberChange[] {
  const out: MemberChange[] = [];
  for (const line of node.output().split('\n')) {
    if (!line.includes('"member changed"')) continue;
    try {
      const entry = JSON.parse(line) as { member: string; state: string; previous: string | null; time: string };
      out.push({ member: entry.member, state: entry.state, previous: entry.previous, at: Date.parse(entry.time) });
    } catch {
      /* a line cut by the reader: the next poll sees it whole */
    }
  }
  return out;
}

/** When this node first logged `member` as `state` at or after `since`; undefined if it has not. */
export function firstChange(node: NodeProcess, member: string, state: string, since: number): number | undefined {
  return memberChanges(node).find((c) => c.member === member && c.state === state && c.at >= since)?.at;
}

export async function stopAll(nodes: NodeProcess[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
}

/** Collects the `member` events of GET /api/v1/events until close() is called. */
export function memberEventStream(node: NodeProcess): { events: Array<Record<string, unknown>>; close: () => void } {
  const events: Array<Record<string, unknown>> = [];
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(`${node.url}/api/v1/events`, { headers: { authorization: `Bearer ${node.apiKey()}` }, signal: abort.signal });
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!/^event: member$/m.test(block)) continue;
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data) events.push((JSON.parse(data) as { data: Record<string, unknown> }).data);
      }
    }
  })().catch(() => {});
  return { events, close: () => abort.abort() };
}
