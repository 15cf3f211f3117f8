import { describe, expect, it } from 'vitest';
import { agentModule, echoAgent, message, setup } from './fixtures.ts';

const errorCode = (m: { content?: unknown }) => (m.content as { error: { code: string } }).error.code;

// Sends "sent" to client:bob, then traps when the message contains "trap" and returns 1 when it contains "fail".
const trapper = () =>
  agentModule((s) => ({
    init: `(call $report ${s('init')} (global.get $inits)) (i32.const 0)`,
    handle: `
      (drop (call $send ${s('{"performative":"inform","receiver":"client:bob","content":"sent"}')}))
      (if (call $contains (local.get $ptr) (local.get $len) ${s('"trap"')}) (then unreachable))
      (if (call $contains (local.get $ptr) (local.get $len) ${s('"oob"')}) (then (drop (i32.load (i32.const -8)))))
      (if (call $contains (local.get $ptr) (local.get $len) ${s('"fail"')}) (then (return (i32.const 1))))
      (i32.const 0)`,
  }));

describe('agent runtime: messages', () => {
  it('runs an echo agent: the reply goes to the sender, stamped by the host', async () => {
    const { runtime, sink, deploy } = setup();
    const info = await deploy('echo', await echoAgent());
    expect(info).toMatchObject({ name: 'echo', node: 'node-1', state: 'running', version: 1 });
    expect(runtime.deliver(message('echo', { sender: 'client:alice' }), 'echo')).toBe('queued');
    await runtime.whenIdle();
    expect(sink.messages).toHaveLength(1);
    const reply = sink.messages[0];
    expect(reply).toMatchObject({ performative: 'inform', receiver: 'client:alice', content: 'pong' });
    expect(reply.sender).toBe('echo'); // the agent wrote "mallory"
    expect(reply.message_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.conversation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(runtime.stats('echo')).toMatchObject({ invocations: 1, messages_in: 1, messages_out: 1, traps: 0, mailbox_depth: 0 });
  });

  it('answers not_found for unknown agents', () => {
    const { runtime } = setup();
    expect(runtime.has('nobody')).toBe(false);
    expect(runtime.deliver(message('nobody'), 'nobody')).toBe('not_found');
  });

  it('a non-zero handle_message result sends AGENT_ERROR to a request, nothing to an inform; sends still go out', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('t', await trapper());
    runtime.deliver(message('t', { content: 'fail', reply_with: 'r1' }), 't');
    runtime.deliver(message('t', { performative: 'inform', content: 'fail' }), 't');
    await runtime.whenIdle();
    const failures = sink.messages.filter((m) => m.performative === 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ sender: 't', receiver: 'client:alice', in_reply_to: 'r1' });
    expect(errorCode(failures[0])).toBe('AGENT_ERROR');
    expect(sink.messages.filter((m) => m.content === 'sent')).toHaveLength(2);
    expect(runtime.stats('t').last_error).toBe('handle_message returned 1');
  });

  it('drops the outbox of a trapped invocation and answers AGENT_TRAPPED', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('t', await trapper());
    runtime.deliver(message('t', { content: 'trap' }), 't');
    await runtime.whenIdle();
    expect(sink.messages.map((m) => m.performative)).toEqual(['failure']);
    expect(errorCode(sink.messages[0])).toBe('AGENT_TRAPPED');
    expect(runtime.stats('t')).toMatchObject({ traps: 1 });
    expect(runtime.stats('t').last_error).toContain('unreachable');
  });

  it('starts a fresh instance after a trap: agent_init runs again, memory state is gone', async () => {
    const { runtime, deploy, logText } = setup();
    await deploy('t', await trapper());
    runtime.deliver(message('t', { content: 'oob' }), 't');
    runtime.deliver(message('t', { content: 'ok' }), 't');
    await runtime.whenIdle();
    const logs = logText('t');
    expect(logs.filter((l) => l === 'init=1')).toHaveLength(2);
    expect(logs.some((l) => l.includes('out_of_bounds_memory'))).toBe(true);
    expect(runtime.state('t')).toBe('running');
  });

  it('fails after 5 traps within 60 s: queued requests get failure, new messages are refused', async () => {
    const traps: string[] = [];
    const states: string[] = [];
    const { runtime, sink, deploy } = setup({
      observer: { onTrap: (_a, reason) => traps.push(reason), onStateChange: (_a, _f, to) => states.push(to) },
    });
    await deploy('t', await trapper());
    for (let i = 0; i < 7; i++) runtime.deliver(message('t', { content: 'trap' }), 't');
    runtime.deliver(message('t', { performative: 'inform', content: 'trap' }), 't');
    await runtime.whenIdle();
    expect(runtime.state('t')).toBe('failed');
    expect(traps).toEqual(Array(5).fill('unreachable'));
    expect(states).toEqual(['deploying', 'running', 'failed']);
    expect(sink.messages.map(errorCode)).toEqual([...Array(5).fill('AGENT_TRAPPED'), 'AGENT_UNAVAILABLE', 'AGENT_UNAVAILABLE']);
    expect(runtime.deliver(message('t'), 't')).toBe('unavailable');
    expect(runtime.has('t')).toBe(true);
  });

  it('does not fail an agent whose traps are spread over more than 60 s', async () => {
    const { runtime, clock, deploy } = setup();
    await deploy('t', await trapper());
    for (let i = 0; i < 6; i++) {
      runtime.deliver(message('t', { content: 'trap' }), 't');
      await runtime.whenIdle();
      clock.ms += 15_001;
    }
    expect(runtime.state('t')).toBe('running');
    expect(runtime.stats('t').traps).toBe(6);
  });

  it('refuses messages beyond the mailbox bound with mailbox_full', async () => {
    const { runtime, deploy } = setup();
    await deploy('echo', await echoAgent(), { limits: { memory_pages: 256, fuel: 1, mailbox: 2 } });
    expect(runtime.deliver(message('echo'), 'echo')).toBe('queued');
    expect(runtime.deliver(message('echo'), 'echo')).toBe('queued');
    expect(runtime.deliver(message('echo'), 'echo')).toBe('mailbox_full');
    expect(runtime.stats('echo').mailbox_depth).toBe(2);
    await runtime.whenIdle();
    expect(runtime.deliver(message('echo'), 'echo')).toBe('queued');
  });

  it('reports invocations to the observer', async () => {
    const seen: string[] = [];
    const { runtime, deploy } = setup({ observer: { onInvocation: (a, kind, ns, outcome) => seen.push(`${a}:${kind}:${outcome}:${ns >= 0}`) } });
    await deploy('t', await trapper());
    runtime.deliver(message('t', { content: 'x' }), 't');
    runtime.deliver(message('t', { content: 'trap' }), 't');
    await runtime.whenIdle();
    expect(seen).toEqual(['t:init:ok:true', 't:message:ok:true', 't:message:trap:true']);
  });

  it('treats agent_alloc returning 0 as an agent error', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('echo', await echoAgent());
    runtime.deliver(message('echo', { content: 'x'.repeat(140_000) }), 'echo');
    await runtime.whenIdle();
    expect(sink.messages.map(errorCode)).toEqual(['AGENT_ERROR']);
    expect(runtime.stats('echo').last_error).toMatch(/agent_alloc\(\d+\) returned 0/);
    expect(runtime.stats('echo').traps).toBe(0);
  });

  it('classifies a stack overflow', async () => {
    const { runtime, deploy } = setup();
    const bytes = await agentModule(() => ({
      handle: '(call $deep (i32.const 0))',
      extra: '(func $deep (param i32) (result i32) (call $deep (i32.add (local.get 0) (i32.const 1))))',
    }));
    await deploy('deep', bytes);
    runtime.deliver(message('deep'), 'deep');
    await runtime.whenIdle();
    expect(runtime.stats('deep').last_error).toContain('stack_overflow');
  });

  it('queues messages delivered while the agent is still deploying', async () => {
    const { runtime, sink, deploy } = setup();
    const deploying = deploy('echo', await echoAgent());
    expect(runtime.state('echo')).toBe('deploying');
    expect(runtime.deliver(message('echo'), 'echo')).toBe('queued');
    await deploying;
    await runtime.whenIdle();
    expect(sink.messages).toHaveLength(1);
  });

  it('keeps running when an observer hook throws', async () => {
    const errors: string[] = [];
    const { runtime, sink, deploy } = setup({
      observer: { onInvocation: () => { throw new Error('metrics down'); } },
      logger: { info() {}, warn() {}, error: (_o, msg) => errors.push(String(msg)) },
    });
    await deploy('echo', await echoAgent());
    runtime.deliver(message('echo'), 'echo');
    await runtime.whenIdle();
    expect(sink.messages).toHaveLength(1);
    expect(errors).toContain('runtime observer failed');
  });
});
