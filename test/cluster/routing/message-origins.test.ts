// A client's origin node crossing a routing link (issue 12, rolling upgrade): an envelope `{o: node}` before
// the message, written only to a peer whose hello lists the `origin` link feature, so a peer of the previous
// version (which reads pairs of strings only) is never sent one and the two still interoperate.
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, encodeValue, FrameError, FrameType } from '../../../src/cluster/routing/frames.ts';
import { decodeAclMessages, encodeAclMessage, encodeOriginEnvelope } from '../../../src/cluster/routing/message-codec.ts';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { message, startNodes, stopNodes, until, type TestNode } from './link-fixture.ts';

let nodes: Map<string, TestNode> | undefined;
afterEach(async () => {
  if (nodes) await stopNodes(nodes);
  nodes = undefined;
});

describe('origin envelopes in a MESSAGES payload', () => {
  it('name the origin of the one message after them; a message without one has none', () => {
    const first = message('client:me', 'bob');
    const second = message('alice', 'bob');
    const payload = Buffer.concat([encodeOriginEnvelope('node-c'), encodeAclMessage(first, 'bob'), encodeAclMessage(second, 'bob')]);
    expect(decodeAclMessages(payload)).toEqual([
      { receiver: 'bob', message: first, origin: 'node-c' },
      { receiver: 'bob', message: second },
    ]);
  });

  it('a misplaced or malformed envelope is a FrameError (the link closes), never another throw', () => {
    const m = encodeAclMessage(message('client:me', 'bob'), 'bob');
    const bad = [
      Buffer.concat([m, encodeOriginEnvelope('node-c')]), // an envelope with no message after it
      Buffer.concat([encodeOriginEnvelope('node-c'), encodeOriginEnvelope('node-d'), m]),
      Buffer.concat([encodeValue({ o: 7 }), m]),
      Buffer.concat([encodeValue({ o: 'x'.repeat(300) }), m]),
      Buffer.concat([encodeValue({}), m]),
      Buffer.concat([encodeValue([1, 2]), m]),
    ];
    for (const payload of bad) expect(() => decodeAclMessages(payload)).toThrow(FrameError);
  });
});

describe('origins over real TLS links', () => {
  it('reach a peer that lists the feature, and are left out for one of the previous version', async () => {
    ({ nodes } = await startNodes(['node-a', 'node-b', 'node-old'], {}, undefined, { 'node-old': { linkFeatures: [] } }));
    const a = nodes.get('node-a') as TestNode;
    const got = new Map<string, Array<{ m: AclMessage; origin?: string }>>();
    for (const id of ['node-b', 'node-old']) {
      got.set(id, []);
      nodes.get(id)!.links.onMessage((_from, m, _receiver, origin) => got.get(id)!.push({ m, ...(origin === undefined ? {} : { origin }) }));
    }
    const forwarded = message('client:me', 'bob');
    const plain = message('alice', 'bob');
    for (const to of ['node-b', 'node-old']) {
      expect(a.links.sendMessage(to, forwarded, 'bob', 'node-c')).toBe('queued');
      expect(a.links.sendMessage(to, plain, 'bob')).toBe('queued');
    }
    await until(() => got.get('node-b')!.length === 2 && got.get('node-old')!.length === 2);
    expect(got.get('node-b')).toEqual([{ m: forwarded, origin: 'node-c' }, { m: plain }]);
    expect(got.get('node-old')).toEqual([{ m: forwarded }, { m: plain }]);
    // node-old's link stayed up: what it was sent was only what the previous version reads.
    await until(() => a.links.linkStates().find((l) => l.node === 'node-old')?.queuedMessages === 0);
    expect(a.links.linkStates().find((l) => l.node === 'node-old')).toMatchObject({ up: true });
    // Remembered per peer, also once its link is forgotten (it left): waits-on-leave.ts asks after the leave.
    a.links.forget('node-b');
    expect(a.links.readsOrigins('node-b')).toBe(true);
    expect(a.links.readsOrigins('node-old')).toBe(false);
    expect(nodes.get('node-b')!.links.readsOrigins('node-a')).toBe(true);
  });

  it('a frame the previous version wrote (pairs only) reads the same', () => {
    const m = message('client:me', 'bob');
    const frame = encodeFrame(FrameType.messages, [encodeAclMessage(m, 'bob')], encodeAclMessage(m, 'bob').length);
    expect(decodeAclMessages(frame.subarray(6))).toEqual([{ receiver: 'bob', message: m }]);
  });
});
