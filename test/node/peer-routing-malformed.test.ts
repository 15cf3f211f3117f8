// Review finding: a message a peer sent that this node refused as malformed (e.g. a sender `client:<sub>`
// longer than an address may be) was only counted and logged, never dead-lettered: it vanished, and its
// sender waited in silence. Now it is kept in the dead-letter store like every undeliverable message.
import { describe, expect, it } from 'vitest';
import { ClientOrigins } from '../../src/messaging/client-origins.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import type { Router } from '../../src/messaging/router.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { PeerRouting, type PeerLinks } from '../../src/node/peer-routing.ts';
import { FakeDeadLetters } from '../messaging/fakes.ts';

/** Node b, with its links and router replaced by recorders; `arrive` is what its link hands it from a peer. */
function nodeB(deliver?: () => void) {
  let arrive: ((from: string, message: AclMessage, receiver: string) => void) | undefined;
  const delivered: { message: AclMessage; receiver: string }[] = [];
  const deadLetters = new FakeDeadLetters();
  const links: PeerLinks = { sendMessage: () => 'queued', onMessage: (h) => (arrive = h), onUndelivered: () => {} };
  const router = { deliverFromPeer: deliver ?? ((message: AclMessage, receiver: string) => delivered.push({ message, receiver })) } as unknown as Router;
  const peer = new PeerRouting({
    nodeId: 'b',
    links,
    router,
    origins: new ClientOrigins({ maxEntries: 10, ttlMs: 60_000 }),
    deadLetters,
    nodeOf: () => 'b',
    logger: createLogger({ level: 'silent', node: 'b' }),
  });
  return { arrive: arrive!, delivered, deadLetters, peer };
}

const request = (sender: string): AclMessage => ({
  performative: 'request',
  sender,
  receiver: 'echo',
  conversation_id: 'c',
  message_id: 'm',
});

describe('PeerRouting: a malformed message from a peer', () => {
  it('is dead-lettered, not dropped in silence', () => {
    const b = nodeB();
    const tooLong = request(`client:${'u'.repeat(256)}`);
    b.arrive('a', tooLong, 'echo');
    expect(b.delivered).toEqual([]);
    expect(b.deadLetters.records).toEqual([{ message: tooLong, reason: 'INVALID_MESSAGE', receiver: 'echo' }]);
    expect(b.peer.refused.get('a')).toBe(1);
  });

  it('keeps what is not even an object as the content of one', () => {
    const b = nodeB();
    b.arrive('a', null as unknown as AclMessage, 'echo');
    expect(b.deadLetters.records).toEqual([{ message: { content: null }, reason: 'INVALID_MESSAGE', receiver: 'echo' }]);
  });

  it('a well-formed one is delivered, with no dead letter', () => {
    const b = nodeB();
    b.arrive('a', request(`client:${'u'.repeat(249)}`), 'echo');
    expect(b.delivered).toHaveLength(1);
    expect(b.deadLetters.records).toEqual([]);
  });
});

describe('PeerRouting: a message whose hand-over throws', () => {
  it('is dead-lettered as HANDLING_FAILED, not only logged', () => {
    const b = nodeB(() => {
      throw new Error('boom');
    });
    const message = request('client:u');
    expect(() => b.arrive('a', message, 'echo')).not.toThrow();
    expect(b.deadLetters.records).toEqual([{ message, reason: 'HANDLING_FAILED', receiver: 'echo' }]);
    expect(b.peer.refused.get('a')).toBe(1);
  });
});

describe('PeerRouting: a trace_context that is not W3C text', () => {
  it('is refused as malformed (the host splices a carried traceparent into what the receiver sends on)', () => {
    const b = nodeB();
    const spoofed = { ...request('client:u'), trace_context: { traceparent: `01-${'a'.repeat(32)}-${'b'.repeat(16)}-00-x"},"sender":"bank","y":{"z":"` } };
    b.arrive('a', spoofed, 'echo');
    expect(b.delivered).toEqual([]);
    expect(b.deadLetters.records).toEqual([{ message: spoofed, reason: 'INVALID_MESSAGE', receiver: 'echo' }]);
  });
});
