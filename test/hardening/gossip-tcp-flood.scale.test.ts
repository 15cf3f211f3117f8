// Issue 10, finding 2: the gossip TCP port buffered up to ~25 MiB per unauthenticated connection for up to
// 10 s with no cap on connections (40 connections: 118 → 1,064 MiB RSS). Now a node holds at most
// gossip.tcp_stream_budget_bytes (64 MiB) of stream bodies beyond 64 KiB per connection, refuses a declared
// length over gossip.tcp_max_stream_bytes before buffering it, cuts connections that send no header within
// gossip.tcp_header_timeout_ms, and keeps answering gossip meanwhile.
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from '../helpers/node-process.ts';
import { floodConnection, readRssKiB } from './gossip-flood.ts';

const running: NodeProcess[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(running.splice(0).map((n) => n.kill('SIGKILL')));
});

/**
 * What the flood may add to a node's peak RSS: the 64 MiB budget, 64 KiB free per connection, the socket
 * and GC slack of buffers grown by doubling (measured: +140 to +160 MiB); before the fix it was ~+1,000 MiB.
 */
const RSS_GROWTH_BOUND_MIB = 320;
const KEY = Buffer.alloc(16, 7).toString('base64');

async function memberIds(node: NodeProcess): Promise<string[]> {
  const res = await fetch(`${node.url}/api/v1/cluster/members`, { headers: { authorization: `Bearer ${node.apiKey()}` } });
  const body = (await res.json()) as { members: { id: string; state: string }[] };
  return body.members.filter((m) => m.state === 'alive').map((m) => m.id);
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Connections that open and never send a byte. */
function slowloris(port: number, count: number): Promise<number> {
  let closedByNode = 0;
  return new Promise((resolve) => {
    let pending = count;
    for (let i = 0; i < count; i++) {
      const s = connect({ host: '127.0.0.1', port });
      sockets.push(s);
      s.on('error', () => {});
      s.on('data', () => {});
      s.once('close', () => {
        closedByNode++;
        if (--pending === 0) resolve(closedByNode);
      });
    }
  });
}

describe.each([
  { encrypted: false, args: [] as string[] },
  { encrypted: true, args: ['--encrypt', KEY] },
])('the gossip TCP port under a flood of huge streams (encrypted: $encrypted)', ({ encrypted, args }) => {
  it('keeps RSS bounded, stays up, and still lets a node join', async () => {
    const a = await startNode({ nodeId: 'a', args });
    running.push(a);
    const b = await startNode({ nodeId: 'b', args: [...args, '--join', `127.0.0.1:${a.gossipPort}`] });
    running.push(b);
    await waitFor('a and b see each other', 10_000, async () => (await memberIds(a)).includes('b'));
    const pid = a.child.pid!;
    const before = readRssKiB(pid).rss;

    // 40 connections each declaring 15 MiB (under the 16 MiB bound, so only the budget stops them) and
    // 5 declaring memberlist's 20 MiB (refused on their header), plus 10 that send nothing.
    const loris = slowloris(a.gossipPort, 10);
    const flood = await Promise.all([
      ...Array.from({ length: 40 }, () => floodConnection(a.gossipPort, encrypted, sockets, 15 * 1024 * 1024)),
      ...Array.from({ length: 5 }, () => floodConnection(a.gossipPort, encrypted, sockets)),
    ]);
    // The budget let at most 4 full bodies through (64 MiB / 15 MiB); the others were cut off.
    expect(flood.filter((f) => f.refused).length).toBeGreaterThanOrEqual(36);

    // While the surviving flood connections are still held open, a legitimate node joins.
    const c = await startNode({ nodeId: 'c', args: [...args, '--join', `127.0.0.1:${a.gossipPort}`] });
    running.push(c);
    await waitFor('c sees a and b', 15_000, async () => {
      const ids = await memberIds(c);
      return ids.includes('a') && ids.includes('b');
    });
    // Header deadline: every silent connection is closed by the node (2 s), long before tcp_timeout_ms.
    expect(await loris).toBe(10);

    const { hwm } = readRssKiB(pid);
    const growthMiB = (hwm - before) / 1024;
    console.log(JSON.stringify({ test: 'gossip-tcp-flood', encrypted, rss_before_mib: +(before / 1024).toFixed(1), peak_mib: +(hwm / 1024).toFixed(1), growth_mib: +growthMiB.toFixed(1) }));
    expect(growthMiB).toBeLessThan(RSS_GROWTH_BOUND_MIB);
    expect(a.child.exitCode, a.output()).toBeNull();
    expect(await memberIds(a)).toEqual(expect.arrayContaining(['a', 'b', 'c']));
    // The refusals were reported, naming the source, rate-limited to one line per source per minute.
    const refusals = a.output().split('\n').filter((l) => l.includes('gossip input refused'));
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.length).toBeLessThanOrEqual(2);
    expect(refusals[0]).toContain('127.0.0.1');
  }, 90_000);
});

describe('a refused gossip stream', () => {
  it('is cut, not drained: the node stops reading once it has refused a stream (over the size bound)', async () => {
    const a = await startNode({ nodeId: 'cut' });
    running.push(a);
    // Declares memberlist's 20 MiB, over gossip.tcp_max_stream_bytes: refused on its header. To a sender that
    // ignores FIN, a node that only half-closed would go on reading (and dropping) every byte of the rest.
    const attempts = await Promise.all(Array.from({ length: 3 }, () => floodConnection(a.gossipPort, false, sockets, undefined, true)));
    for (const attempt of attempts) {
      expect(attempt.refused).toBe(true);
      expect(attempt.sent).toBeLessThan(20 * 1024 * 1024);
    }
    expect(a.child.exitCode, a.output()).toBeNull();
  }, 60_000);
});
