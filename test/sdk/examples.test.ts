// The example agents, built by scripts/build-examples.ts, run in the mini host.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildExamples } from '../../scripts/build-examples.ts';
import { MiniHost, foreignImports, type Json } from './mini-host.ts';
import { checkRawEcho } from './raw-echo-checks.ts';

let built: Record<string, string>;
const bytes = (name: string): Uint8Array => readFileSync(built[name]);

beforeAll(async () => {
  built = await buildExamples();
});

describe('every example', () => {
  it('is built', () => {
    expect(Object.keys(built)).toEqual(expect.arrayContaining(['echo', 'counter', 'contract-net-participant', 'wat-echo']));
  });

  it('imports nothing outside the ABI (caxton.*, and the WASI shim only for WASI reactors) and exports the ABI', () => {
    for (const name of Object.keys(built)) {
      // The C reactor built against wasi-libc (examples/agents/c/*.wasi.c) uses the ABI's WASI shim on purpose.
      const wasiReactor = name === 'c-clock';
      const foreign = foreignImports(bytes(name)).filter((i) => !(wasiReactor && i.startsWith('wasi_snapshot_preview1.')));
      expect(foreign, name).toEqual([]);
      const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes(name) as BufferSource));
      expect(exports, name).toEqual(expect.arrayContaining([
        { name: 'memory', kind: 'memory' }, { name: 'agent_alloc', kind: 'function' }, { name: 'handle_message', kind: 'function' },
      ]));
    }
  });
});

describe('echo (AssemblyScript)', () => {
  it('answers request and query with inform carrying the same content', async () => {
    const host = await MiniHost.load(bytes('echo'), 'echo');
    const content = { x: 1, s: 'é😀"', list: [true, null, 1.25] };
    let { result, replies } = host.exchange({
      performative: 'request', sender: 'alice', content, conversation_id: 'c1', reply_with: 'r1', protocol: 'fipa-request',
    });
    expect(result).toBe(0);
    expect(replies).toEqual([expect.objectContaining({
      performative: 'inform', receiver: 'alice', content, conversation_id: 'c1', in_reply_to: 'r1', protocol: 'fipa-request',
    })]);
    ({ replies } = host.exchange({ performative: 'query-ref', sender: 'bob', content: 'q', conversation_id: 'c2', message_id: 'm2' }));
    expect(replies).toEqual([expect.objectContaining({ performative: 'inform', receiver: 'bob', content: 'q', in_reply_to: 'm2' })]);
  });

  it('answers other performatives that expect a reply with not-understood, and ignores the rest', async () => {
    const host = await MiniHost.load(bytes('echo'), 'echo');
    expect(host.exchange({ performative: 'cfp', sender: 'carol', reply_with: 'r3' }).replies)
      .toEqual([expect.objectContaining({ performative: 'not-understood', receiver: 'carol', in_reply_to: 'r3' })]);
    expect(host.exchange({ performative: 'inform', sender: 'carol' }).replies).toEqual([]);
    expect(host.exchange({ performative: 'failure', sender: 'carol' }).replies).toEqual([]);
  });
});

describe('echo (hand-written WAT)', () => {
  it('answers request from the raw ABI', async () => {
    await checkRawEcho(bytes('wat-echo'));
  });
});

describe('counter', () => {
  it('adds and reports the count, from 0 in each new instance', async () => {
    const host = await MiniHost.load(bytes('counter'), 'counter');
    const count = (content: { [key: string]: Json }) => host.exchange({ performative: 'request', content, reply_with: 'r' }).replies[0];
    expect(count({ op: 'get' })).toMatchObject({ performative: 'inform', content: { count: 0 }, in_reply_to: 'r' });
    expect(count({ op: 'add', n: 5 }).content).toEqual({ count: 5 });
    expect(count({ op: 'add', n: -2 }).content).toEqual({ count: 3 });
    expect(count({ op: 'get' }).content).toEqual({ count: 3 });
    expect(count({ op: 'add' })).toMatchObject({ performative: 'refuse' });
    expect(count({ op: 'jump' })).toMatchObject({ performative: 'not-understood' });
    expect(count({ op: 'get' }).content).toEqual({ count: 3 });
    const fresh = await MiniHost.load(bytes('counter'), 'counter');
    expect(fresh.exchange({ performative: 'request', content: { op: 'get' } }).replies[0].content).toEqual({ count: 0 });
  });

  it('counts past 2^53 exactly', async () => {
    const host = await MiniHost.load(bytes('counter'), 'counter');
    host.deliver({ performative: 'request', content: { op: 'add', n: 2 ** 53 } });
    host.deliver({ performative: 'request', content: { op: 'add', n: 2 ** 53 } });
    host.deliver({ performative: 'request', content: { op: 'add', n: 3 } });
    expect(host.rawSent.at(-1)).toContain('"content":{"count":18014398509481987}');
  });
});

describe('contract-net participant', () => {
  const cfp = (content: { [key: string]: Json }) => ({
    performative: 'cfp', sender: 'buyer', content, protocol: 'fipa-contract-net', conversation_id: 'cn-1', reply_with: 'cfp-1',
  });

  it('proposes a price derived from its name and the task, the same every time', async () => {
    const a = await MiniHost.load(bytes('contract-net-participant'), 'seller-a');
    const first = a.exchange(cfp({ task: 'paint' })).replies[0];
    expect(first).toMatchObject({ performative: 'propose', receiver: 'buyer', conversation_id: 'cn-1', in_reply_to: 'cfp-1', protocol: 'fipa-contract-net' });
    const price = (first.content as { price: number }).price;
    expect(price).toBeGreaterThanOrEqual(10);
    expect(price).toBeLessThan(100);
    expect(a.exchange(cfp({ task: 'paint' })).replies[0].content).toEqual({ price, bidder: 'seller-a' });
    const prices = new Set<number>();
    for (const name of ['s1', 's2', 's3', 's4', 's5']) {
      const other = await MiniHost.load(bytes('contract-net-participant'), name);
      prices.add((other.exchange(cfp({ task: 'paint' })).replies[0].content as { price: number }).price);
    }
    expect(prices.size).toBeGreaterThan(1);
  });

  it('refuses when its price is above max_price', async () => {
    const host = await MiniHost.load(bytes('contract-net-participant'), 'seller-a');
    const reply = host.exchange(cfp({ task: 'paint', max_price: 5 })).replies[0];
    expect(reply).toMatchObject({ performative: 'refuse', in_reply_to: 'cfp-1' });
    expect(reply.content).toMatchObject({ reason: 'price above max_price' });
    expect(host.exchange(cfp({ task: 'paint', max_price: 1000 })).replies[0].performative).toBe('propose');
  });

  it('informs done on accept-proposal and stays silent on reject-proposal', async () => {
    const host = await MiniHost.load(bytes('contract-net-participant'), 'seller-a');
    const accept = { sender: 'buyer', protocol: 'fipa-contract-net', conversation_id: 'cn-1', reply_with: 'acc-1' };
    expect(host.exchange({ performative: 'accept-proposal', ...accept }).replies)
      .toEqual([expect.objectContaining({ performative: 'inform', content: { done: true }, in_reply_to: 'acc-1' })]);
    expect(host.exchange({ performative: 'reject-proposal', ...accept }).replies).toEqual([]);
  });
});
