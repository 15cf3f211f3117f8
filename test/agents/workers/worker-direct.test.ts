// Sends between agents of two different workers go over the pair's direct channel (a MessageChannel per pair
// of workers), never through the main thread's router, and keep what the router gave them: order per
// (sender, receiver), reports to the router's observer, an answer for every message a replaced worker lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentWorkerPool, type DeliveryReports } from '../../../src/agents/workers/agent-worker-pool.ts';
import { ModuleCache } from '../../../src/agents/module-cache.ts';
import { loadConfig } from '../../../src/config/config.ts';
import type { DeliveryOutcome } from '../../../src/messaging/delivery.ts';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { CaxtonNode } from '../../../src/node/node.ts';
import { agentModule, message, RecordingSink, recordingRouter, sha, spec } from '../fixtures.ts';

const PREFIX = '{"performative":"inform","receiver":"log","conversation_id":"forwarded","content":';

/** Sends every message it gets, whole, as the content of an inform to `log`, in conversation "forwarded". */
function forwarder(): Promise<Uint8Array> {
  return agentModule((s) => ({
    handle: `(local $o i32)
      (call $copy (i32.const 0x1000) ${s(PREFIX)})
      (local.set $o (i32.add (i32.const 0x1000) (i32.const ${PREFIX.length})))
      (call $copy (local.get $o) (local.get $ptr) (local.get $len))
      (local.set $o (i32.add (local.get $o) (local.get $len)))
      (call $copy (local.get $o) ${s('}')})
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (drop (call $send (i32.const 0x1000) (i32.sub (local.get $o) (i32.const 0x1000))))
      (i32.const 0)`,
  }));
}

/** Logs every message it gets (its text). */
const logger = () => agentModule(() => ({ handle: '(call $log (i32.const 2) (local.get $ptr) (local.get $len)) (i32.const 0)' }));

/** What `log` got, as the numbers the main thread gave `fwd`. */
function seenBy(lines: { message: string }[]): unknown[] {
  return lines.map((line) => ((JSON.parse(line.message) as AclMessage).content as AclMessage).content);
}

class RecordingReports implements DeliveryReports {
  routedTo: string[] = [];
  refusals: { receiver: string; outcome: DeliveryOutcome }[] = [];
  losses: { message: AclMessage; receiver: string; text: string }[] = [];
  routed(_message: AclMessage, receiver: string) {
    this.routedTo.push(receiver);
  }
  routedCount() {}
  refused(_message: AclMessage, receiver: string, outcome: DeliveryOutcome) {
    this.refusals.push({ receiver, outcome });
  }
  lost(message: AclMessage, receiver: string, text: string) {
    this.losses.push({ message, receiver, text });
  }
}

const pools: AgentWorkerPool[] = [];
const nodes: { node: CaxtonNode; dataDir: string }[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.shutdown();
  for (const { node, dataDir } of nodes.splice(0)) {
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

function makePool(extra: Partial<ConstructorParameters<typeof AgentWorkerPool>[0]> = {}) {
  const sink = new RecordingSink();
  const reports = new RecordingReports();
  const pool: AgentWorkerPool = new AgentWorkerPool({ nodeId: 'node-1', workers: 2, sink: recordingRouter(sink, () => pool), reports, ...extra });
  pools.push(pool);
  return { pool, sink, reports };
}

describe('direct channel between agent workers', () => {
  it('delivers from an agent of one worker to one of another without the router, in order, reported to it', async () => {
    const { pool, sink, reports } = makePool();
    const fwd = await forwarder();
    const log = await logger();
    await pool.start(spec('fwd'), sha(fwd), 1, fwd);
    await pool.start(spec('log', { limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 1000 } }), sha(log), 1, log);
    expect(pool.threadFigures().map((f) => f.agents)).toEqual([1, 1]);
    for (let i = 0; i < 300; i++) pool.deliver(message('fwd', { performative: 'inform', content: i }), 'fwd');
    await pool.whenIdle();
    expect(seenBy(pool.logs('log', 0, 1000))).toEqual(Array.from({ length: 300 }, (_, i) => i));
    // Not one went through the router; each was reported to it as delivered.
    expect(sink.messages).toHaveLength(0);
    expect(reports.routedTo.filter((to) => to === 'log')).toHaveLength(300);
    expect(pool.threadFigures()[0].messages_out).toBe(0);
    expect(pool.threadFigures()[1]).toMatchObject({ messages_direct: 300, messages_local: 0 });
  });

  it('loses and doubles nothing sent directly to an agent handed over meanwhile, and keeps their order', async () => {
    const total = 1000;
    // Log lines kept on the main thread: all of them, so that `before` is everything log handled.
    const { pool, sink, reports } = makePool({ logRingSize: 2 * total });
    const fwd = await forwarder();
    const log = await logger();
    await pool.start(spec('fwd'), sha(fwd), 1, fwd);
    await pool.start(spec('log', { limits: { memory_pages: 256, fuel: 10_000_000, mailbox: total } }), sha(log), 1, log);
    for (let i = 0; i < total; i++) pool.deliver(message('fwd', { performative: 'inform', content: i }), 'fwd');
    // Handed over once log has handled some of fwd's sends: others are queued on worker-1, on the direct
    // channel, or sent through the router once fwd's worker stopped sending directly (held for the new owner
    // until release, then to the sink).
    const handled = () => seenBy(pool.logs('log', 0, total));
    for (let i = 0; i < 2000 && handled().length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await pool.prepareRelease('log');
    const before = handled();
    const given = pool.release('log');
    await pool.whenIdle();
    const held = given.map((m) => (m.content as AclMessage).content);
    // The sink records every send the router saw, also those the pool held and gave back: counted once, in `held`.
    const heldHere = new Set(given);
    const after = sink.messages.filter((m) => m.receiver === 'log' && !heldHere.has(m)).map((m) => (m.content as AclMessage).content);
    expect(reports.refusals).toEqual([]);
    const all = [...before, ...held, ...after];
    expect([...all].sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: total }, (_, i) => i));
    // fwd's order holds across the hand-over: what log handled, then what it gave back, then what came later.
    expect(all).toEqual([...all].sort((a, b) => (a as number) - (b as number)));
    expect(before.length).toBeGreaterThan(0);
  });

  it('hands what the receiving worker refuses (agent stopped) to the router to answer', async () => {
    const { pool, reports } = makePool();
    const fwd = await forwarder();
    const log = await logger();
    await pool.start(spec('fwd'), sha(fwd), 1, fwd);
    await pool.start(spec('log', { limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 10 } }), sha(log), 1, log);
    await pool.stop('log');
    for (let i = 0; i < 3; i++) pool.deliver(message('fwd', { performative: 'inform', content: i }), 'fwd');
    await pool.whenIdle();
    expect(reports.refusals).toEqual(Array.from({ length: 3 }, () => ({ receiver: 'log', outcome: 'unavailable' })));
  });

  it('bounds what one worker sends a busy receiver by its mailbox; the rest refused, nothing vanishes', async () => {
    const { pool, reports } = makePool({ stallMs: 1_500, cache: ModuleCache.unmetered() });
    const fwd = await forwarder();
    const stuck = await agentModule(() => ({ handle: '(loop $forever (br $forever)) (i32.const 0)' }));
    await pool.start(spec('fwd'), sha(fwd), 1, fwd);
    await pool.start(spec('log', { limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 5 } }), sha(stuck), 1, stuck);
    pool.deliver(message('log'), 'log');
    // Worker-1 spins until the watchdog replaces it: what fwd sends waits on the channel, unread.
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 12; i++) pool.deliver(message('fwd', { performative: 'inform', content: i }), 'fwd');
    const fromFwd = <T extends { message?: AclMessage; receiver: string }>(list: T[]) => list.filter((l) => l.receiver === 'log');
    for (let i = 0; i < 600 && fromFwd(reports.refusals).length < 7; i++) await new Promise((r) => setTimeout(r, 20));
    expect(reports.refusals).toEqual(Array.from({ length: 7 }, () => ({ receiver: 'log', outcome: 'mailbox_full' })));
    // The five on their way are answered when the worker is replaced.
    const lost = () => reports.losses.filter((l) => l.message.sender === 'fwd');
    for (let i = 0; i < 600 && lost().length < 5; i++) await new Promise((r) => setTimeout(r, 50));
    expect(lost().map((l) => (l.message.content as AclMessage).content)).toEqual([0, 1, 2, 3, 4]);
  }, 90_000);

  it('answers WORKER_RESTARTED for what it sent to a worker that was replaced before taking it', async () => {
    // Unmetered: nothing stops the loop but the watchdog.
    const { pool, reports } = makePool({ stallMs: 300, cache: ModuleCache.unmetered() });
    const fwd = await forwarder();
    const stuck = await agentModule(() => ({ handle: '(loop $forever (br $forever)) (i32.const 0)' }));
    await pool.start(spec('fwd'), sha(fwd), 1, fwd);
    // `log` here spins on its first message; the forwards queue behind it on its worker.
    await pool.start(spec('log', { limits: { memory_pages: 256, fuel: 10_000_000, mailbox: 100 } }), sha(stuck), 1, stuck);
    pool.deliver(message('log'), 'log');
    for (let i = 0; i < 3; i++) pool.deliver(message('fwd', { performative: 'inform', content: i }), 'fwd');
    // (The message the main thread handed `log` is answered too, as before: its taking never left the worker.)
    const forwarded = () => reports.losses.filter((l) => l.message.sender === 'fwd');
    for (let i = 0; i < 600 && forwarded().length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    expect(forwarded().map((l) => [l.receiver, (l.message.content as AclMessage).content])).toEqual([
      ['log', 0],
      ['log', 1],
      ['log', 2],
    ]);
    expect(forwarded()[0].text).toMatch(/restarted/);
    expect(pool.threadFigures()[1].restarts).toBe(1);
  }, 90_000);

  it('on a real node with two workers: the conversation log and the routed counter see the direct hops', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-direct-'));
    const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: { CAXTON_AGENTS_WORKERS: '2', CAXTON_STATE_CONVERSATION_LOG: 'all' } });
    const node = await CaxtonNode.start({ config, listen: false });
    nodes.push({ node, dataDir });
    await node.deployAgent({ name: 'fwd' }, await forwarder());
    await node.deployAgent({ name: 'log', limits: { mailbox: 1000 } }, await logger());
    expect(node.runtime.threadFigures().map((f) => f.agents)).toEqual([1, 1]);
    const routed = () => node.metrics.messagesRouted.total();
    const before = routed();
    for (let i = 0; i < 100; i++) {
      node.router.route({ performative: 'inform', sender: 'client:test', receiver: 'fwd', message_id: `m${i}`, conversation_id: `c${i}`, content: i });
    }
    await node.runtime.whenIdle();
    expect(seenBy(await node.agentLogs('log', { limit: 1000 }))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const figures = node.runtime.threadFigures();
    // fwd's sends to log never reached the main thread to be routed.
    expect(figures[0].messages_out).toBe(0);
    expect(figures[1].messages_direct).toBe(100);
    expect(routed() - before).toBe(200);
    const conversation = await node.getConversation('forwarded');
    expect(conversation.messages.filter((m) => m.sender === 'fwd' && m.receiver === 'log')).toHaveLength(100);
    // One message invocation in 64 is timed on the workers too (100 on each of two workers: one each), as on one thread.
    const text = await node.metrics.metrics();
    const timed = Number(/caxton_agent_invocation_duration_seconds_count\{kind="message"\} (\d+)/.exec(text)?.[1] ?? 0);
    expect(timed).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
