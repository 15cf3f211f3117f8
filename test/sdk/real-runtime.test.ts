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
