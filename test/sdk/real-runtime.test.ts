// The examples in the real agent runtime (src/agents), not only in the SDK's mini host: fuel metering,
// module validation and the host's message checks all apply.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildExamples } from '../../scripts/build-examples.ts';
import { message, setup } from '../agents/fixtures.ts';

let built: Record<string, string>;
beforeAll(async () => {
  built = await buildExamples();
});

describe('examples in the agent runtime', () => {
  it('echo (AssemblyScript and WAT) answers a request in its conversation', async () => {
    for (const name of ['echo', 'wat-echo']) {
      const { runtime, sink, deploy } = setup();
      await deploy(name, readFileSync(built[name]));
      runtime.deliver(message(name, { content: { x: 1 }, reply_with: 'r1', protocol: 'fipa-request' }), name);
      await runtime.whenIdle();
      expect(sink.messages, name).toEqual([expect.objectContaining({
        performative: 'inform', sender: name, receiver: 'client:alice', content: { x: 1 }, in_reply_to: 'r1', protocol: 'fipa-request',
      })]);
    }
  });

  it('echo hands content back unchanged, however it is shaped, without parsing it', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('echo', readFileSync(built.echo));
    const contents: unknown[] = [
      'plain', '', 'brackets ] } [ { and "quotes" and \\ backslashes \\" inside', 'é 中文 😀 \u0000 \n',
      { a: [1, { b: '}]' }], c: { d: [[[]]] }, 'k"ey': '"' }, [], {}, [1.5, -2.5, 1e300, true, null, 'x'], 0, false, null,
      Array.from({ length: 600 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', ']'], ok: i % 2 === 0 })),
    ];
    contents.forEach((content, i) => runtime.deliver(message('echo', { content, message_id: `m${i}` }), 'echo'));
    await runtime.whenIdle();
    expect(sink.messages.map((m) => m.content)).toEqual(contents);
  });

  it('echo answers a 256 KiB request within the default fuel (content is copied, not parsed)', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('echo', readFileSync(built.echo)); // default limits: fuel 10,000,000
    const objects = Array.from({ length: 6500 }, (_, i) => ({ id: i, name: `item-${i}`, ok: true }));
    const text = 'x'.repeat(256 * 1024);
    runtime.deliver(message('echo', { content: objects, message_id: 'objects' }), 'echo');
    runtime.deliver(message('echo', { content: text, message_id: 'text' }), 'echo');
    await runtime.whenIdle();
    expect(JSON.stringify(objects).length).toBeGreaterThan(256 * 1024);
    expect(sink.messages.map((m) => m.performative)).toEqual(['inform', 'inform']);
    expect(sink.messages.map((m) => m.content)).toEqual([objects, text]);
    expect(runtime.stats('echo').traps_by_reason).toEqual({});
  });

  it('counter keeps its count across messages', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('counter', readFileSync(built.counter));
    runtime.deliver(message('counter', { content: { op: 'add', n: 2 } }), 'counter');
    runtime.deliver(message('counter', { content: { op: 'add', n: 40 } }), 'counter');
    await runtime.whenIdle();
    expect(sink.messages.map((m) => m.content)).toEqual([{ count: 2 }, { count: 42 }]);
  });

  it('the contract-net participant proposes, using its name from the host', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('seller', readFileSync(built['contract-net-participant']));
    runtime.deliver(message('seller', { performative: 'cfp', content: { task: 't' }, protocol: 'fipa-contract-net' }), 'seller');
    await runtime.whenIdle();
    expect(sink.messages).toEqual([expect.objectContaining({ performative: 'propose', content: expect.objectContaining({ bidder: 'seller' }) })]);
  });
});
