// The sniffer's model without a browser: which events become rows, the lanes, the marks, and the bounds.
import { describe, expect, it } from 'vitest';
import { MAX_LANES, SequenceLog, laneOf } from '../../src/console/sequence-log.ts';
import type { NodeEvent } from '../../src/console/types.ts';

const message = (sender: string, receiver: string, performative: string, conversation = 'c1', id = `${sender}-${receiver}-${performative}`, outcome = 'queued'): NodeEvent => ({
  type: 'message',
  ts: '2026-01-01T00:00:00Z',
  data: { sender, receiver, performative, conversation_id: conversation, message_id: id, protocol: null, outcome },
});
const conversation = (data: Record<string, unknown>): NodeEvent => ({ type: 'conversation', ts: '2026-01-01T00:00:01Z', data: { protocol: 'fipa-request', state: 'x', ...data } });

describe('SequenceLog', () => {
  it('draws every message with nothing picked, one row per message and receiver, lanes by first appearance', () => {
    const log = new SequenceLog({ agents: [] });
    expect(log.add(message('client:admin', 'echo', 'request'))).toBe(true);
    expect(log.add(message('echo', 'client:admin', 'inform'))).toBe(true);
    expect(log.add(message('echo', 'client:admin', 'inform'))).toBe(false); // the same event twice
    expect(log.lanes).toEqual(['client:admin', 'echo']);
    expect(log.rows.map((r) => r.kind === 'message' && r.performative)).toEqual(['request', 'inform']);
  });

  it('with agents picked, keeps their messages and marks; picked agents come first', () => {
    const log = new SequenceLog({ agents: ['b'] });
    expect(log.add(message('a', 'c', 'inform'))).toBe(false);
    expect(log.add(message('a', 'b', 'request'))).toBe(true);
    expect(log.add(conversation({ change: 'rejected', conversation_id: 'c2', code: 'PROTOCOL_VIOLATION', sender: 'b', receiver: 'a', performative: 'inform', message_id: 'm9' }))).toBe(true);
    expect(log.add(conversation({ change: 'timed-out', conversation_id: 'c3', participant: 'z' }))).toBe(false);
    expect(log.add(conversation({ change: 'timed-out', conversation_id: 'c3', participant: 'b' }))).toBe(true);
    expect(log.lanes).toEqual(['b', 'a']);
    expect(log.rows.map((r) => r.kind)).toEqual(['message', 'violation', 'timeout']);
    expect(log.rows[1]).toMatchObject({ kind: 'violation', from: 'b', to: 'a', performative: 'inform', code: 'PROTOCOL_VIOLATION' });
  });

  it('with a conversation picked, keeps only it, with its history first and notes when it opens and ends', () => {
    const log = new SequenceLog({ conversation: 'c1', agents: [] });
    log.addHistory([{ performative: 'request', sender: 'client:x', receiver: ['a', 'b'], conversation_id: 'c1', message_id: 'h1' }]);
    expect(log.add(message('a', 'client:x', 'inform', 'c2'))).toBe(false);
    expect(log.add(message('a', 'client:x', 'inform', 'c1'))).toBe(true);
    expect(log.add(conversation({ change: 'ended', conversation_id: 'c1' }))).toBe(true);
    expect(log.add(message('client:x', 'a', 'request', 'c1', 'h1'))).toBe(false); // already drawn from the history
    expect(log.rows.map((r) => r.kind)).toEqual(['message', 'message', 'message', 'note']);
  });

  it('is bounded: the newest rows and at most MAX_LANES lanes, the rest drawn on the last', () => {
    const log = new SequenceLog({ agents: [] }, 10);
    for (let i = 0; i < 50; i++) log.add(message('client:x', `agent-${i}`, 'request', 'c', `m${i}`));
    expect(log.rows).toHaveLength(10);
    expect(log.lanes).toHaveLength(MAX_LANES);
    expect(laneOf(log.lanes, 'agent-49')).toBe(MAX_LANES - 1);
    // An evicted row may be drawn again if it comes back (its key was forgotten with it).
    expect(log.add(message('client:x', 'agent-0', 'request', 'c', 'm0'))).toBe(true);
  });

  it('ignores events it does not draw, and malformed ones without throwing', () => {
    const log = new SequenceLog({ agents: [] });
    expect(log.add({ type: 'agent.state', ts: '', data: { agent: 'a' } })).toBe(false);
    expect(log.add({ type: 'conversation', ts: '', data: {} })).toBe(false);
    expect(log.add({ type: 'message', ts: '', data: {} })).toBe(false);
  });
});
