import { describe, expect, it } from 'vitest';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { routeAndWait } from '../../../src/messaging/route-and-wait.ts';
import type { AgentStatus } from '../../../src/messaging/system-agents/agent-management.ts';
import { registerSystemAgents } from '../../../src/messaging/system-agents/register-system-agents.ts';
import { errorOf, setup } from '../protocols/harness.ts';

function world() {
  const w = setup();
  const statuses = new Map<string, AgentStatus>([
    ['pricer', { state: 'running', node: 'node-a' }],
    ['far', { state: 'stopped', node: 'node-b' }],
  ]);
  let id = 0;
  registerSystemAgents(w.router, { directory: w.directory, lookupAgent: (name) => statuses.get(name), newId: () => `sys-${++id}` });
  w.deploy('asker');
  w.deploy('pricer', ['pricing']);
  w.deploy('far', ['pricing'], 'node-b'); // on another node: df answers cluster-wide
  return w;
}

describe('df', () => {
  it('answers query-ref {"capability"} with every agent advertising it, in the same conversation', () => {
    const { send, take } = world();
    send({ performative: 'query-ref', sender: 'asker', receiver: 'df', content: { capability: 'pricing' }, reply_with: 'q1', conversation_id: 'conv-df' });
    expect(take('asker')).toEqual([
      { performative: 'inform', sender: 'df', receiver: 'asker', content: { agents: ['pricer', 'far'] }, conversation_id: 'conv-df', in_reply_to: 'q1', message_id: 'sys-1' },
    ]);
    send({ performative: 'query-ref', sender: 'asker', receiver: 'df', content: '{"capability":"nothing"}' });
    expect(take('asker')[0]).toMatchObject({ content: { agents: [] }, in_reply_to: expect.stringMatching(/^m/) });
  });

  it('answers bad content and other performatives with not-understood, and failures not at all', () => {
    const { send, take } = world();
    send({ performative: 'query-ref', sender: 'asker', receiver: 'df', content: { cap: 'x' } });
    send({ performative: 'request', sender: 'asker', receiver: 'df', content: { capability: 'x' } });
    send({ performative: 'failure', sender: 'asker', receiver: 'df' });
    const replies = take('asker');
    expect(replies.map((m) => [m.performative, m.sender, errorOf(m)!.code])).toEqual([
      ['not-understood', 'df', 'INVALID_MESSAGE'],
      ['not-understood', 'df', 'INVALID_MESSAGE'],
    ]);
    expect(errorOf(replies[0])!.message).toContain('content.capability');
  });

  it('takes part in fipa-query: its inform ends the tracked conversation', () => {
    const { send, take, tracker } = world();
    send({ performative: 'query-ref', sender: 'asker', receiver: 'df', protocol: 'fipa-query', content: { capability: 'pricing' } });
    expect(take('asker')[0]).toMatchObject({ performative: 'inform', protocol: 'fipa-query' });
    expect(tracker.view('c1')).toMatchObject({ state: 'ended', participants: [{ name: 'df', state: 'answered' }] });
  });

  it('answers a client waiting on it', async () => {
    const { router, clients } = world();
    const question: AclMessage = {
      performative: 'query-ref',
      sender: 'client:ops',
      receiver: 'df',
      content: { capability: 'pricing' },
      conversation_id: 'cc',
      message_id: 'qid',
    };
    const replies = await routeAndWait(router, clients, question, 1000);
    expect(replies.map((m) => m.content)).toEqual([{ agents: ['pricer', 'far'] }]);
  });
});

describe('ams', () => {
  it('answers query-ref {"agent"} with its state and node', () => {
    const { send, take } = world();
    send({ performative: 'query-ref', sender: 'asker', receiver: 'ams', content: { agent: 'far' }, reply_with: 'q2', conversation_id: 'conv-ams' });
    expect(take('asker')[0]).toMatchObject({
      performative: 'inform',
      sender: 'ams',
      content: { agent: 'far', state: 'stopped', node: 'node-b' },
      in_reply_to: 'q2',
      conversation_id: 'conv-ams',
    });
  });

  it('answers an unknown agent with failure AGENT_NOT_FOUND, bad content with not-understood', () => {
    const { send, take } = world();
    send({ performative: 'query-ref', sender: 'asker', receiver: 'ams', content: { agent: 'nobody' }, protocol: 'fipa-query' });
    send({ performative: 'query-ref', sender: 'asker', receiver: 'ams', content: [1, 2], conversation_id: 'c2' });
    const [missing, bad] = take('asker');
    expect(missing).toMatchObject({ performative: 'failure', sender: 'ams', protocol: 'fipa-query' });
    expect(errorOf(missing)).toMatchObject({ code: 'AGENT_NOT_FOUND', details: { agent: 'nobody' } });
    expect(bad.performative).toBe('not-understood');
    expect(errorOf(bad)!.message).toContain('content.agent');
  });
});
