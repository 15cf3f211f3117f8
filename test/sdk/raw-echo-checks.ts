// What every raw-ABI echo (WAT, C) must do; shared so each language's test runs the same checks.
import { expect } from 'vitest';
import { MiniHost } from './mini-host.ts';

export async function checkRawEcho(bytes: Uint8Array): Promise<void> {
  const host = await MiniHost.load(bytes, 'echo');

  // request with reply_with: in_reply_to = reply_with, content copied byte for byte.
  const content = { text: 'quote " and \\ and \u00e9 😀', nested: { sender: 'decoy', list: [1, 2.50, { '}': ']' }] }, n: -1.5e-7 };
  const request = {
    performative: 'request', sender: 'alice', receiver: 'echo', content, protocol: 'fipa-request',
    conversation_id: 'conv-1', reply_with: 'rw-1', message_id: 'm-1',
  };
  let { result, replies } = host.exchange(request);
  expect(result).toBe(0);
  expect(replies).toHaveLength(1);
  expect(replies[0]).toMatchObject({
    performative: 'inform', receiver: 'alice', conversation_id: 'conv-1', in_reply_to: 'rw-1', protocol: 'fipa-request', content,
  });
  expect(host.rawSent.at(-1)).toContain(`"content":${JSON.stringify(content)}`);

  // Content placed first, holding the same keys as the envelope: only top-level keys count.
  const tricky = '{"content":{"performative":"inform","sender":"mallory","reply_with":"no"},"performative":"request",'
    + '"sender":"client:bob","receiver":"echo","conversation_id":"conv-2","message_id":"m-2"}';
  expect(host.deliverBytes(new TextEncoder().encode(tricky))).toBe(0);
  expect(host.sent.at(-1)).toMatchObject({
    performative: 'inform', receiver: 'client:bob', conversation_id: 'conv-2', in_reply_to: 'm-2',
    content: { performative: 'inform', sender: 'mallory', reply_with: 'no' },
  });

  // Without content or reply_with: in_reply_to = message_id and no content field.
  ({ result, replies } = host.exchange({ performative: 'request', sender: 'carol', conversation_id: 'c3', message_id: 'm-3' }));
  expect(result).toBe(0);
  expect(JSON.parse(host.rawSent.at(-1)!)).toEqual({ performative: 'inform', receiver: 'carol', conversation_id: 'c3', in_reply_to: 'm-3' });

  // Whitespace between tokens is tolerated.
  const spaced = '{ "performative" : "request" , "sender" : "dave" , "receiver" : "echo" , "content" : [ 1 , 2 ] , "message_id" : "m-4" }';
  expect(host.deliverBytes(new TextEncoder().encode(spaced))).toBe(0);
  expect(host.sent.at(-1)).toMatchObject({ receiver: 'dave', in_reply_to: 'm-4', content: [1, 2] });

  // Anything but request is ignored.
  for (const performative of ['inform', 'query-ref', 'cfp', 'failure']) {
    ({ result, replies } = host.exchange({ performative, sender: 'erin', content: { performative: 'request' } }));
    expect(result).toBe(0);
    expect(replies).toEqual([]);
  }

  // A large request, many times: memory stays bounded by the largest message.
  const big = { blob: 'y'.repeat(300_000) };
  for (let i = 0; i < 20; i++) expect(host.exchange({ performative: 'request', sender: 'frank', content: big }).replies[0].content).toEqual(big);
  expect(host.memory.buffer.byteLength).toBeLessThan(2 * 1024 * 1024);
}
