import { describe, expect, it } from 'vitest';
import { agentModule, echoAgent, message, setup, sha, spec } from './fixtures.ts';

/** Logs "<tag> init", "<tag> got" per message and "<tag> shutdown". */
const tagged = (tag: string, initResult = 0) =>
  agentModule((s) => ({
    init: `(call $log (i32.const 2) ${s(`${tag} init`)}) (i32.const ${initResult})`,
    handle: `(call $log (i32.const 2) ${s(`${tag} got`)}) (i32.const 0)`,
    shutdown: `(call $log (i32.const 2) ${s(`${tag} shutdown`)}) (drop (call $send ${s('{"performative":"inform","receiver":"client:ops","content":"bye"}')}))`,
  }));

describe('agent runtime: lifecycle', () => {
  it('compiles a module once for many agents', async () => {
    const { runtime, deploy } = setup();
    const bytes = await echoAgent();
    await Promise.all(Array.from({ length: 20 }, (_, i) => deploy(`e${i}`, bytes)));
    expect(runtime.cache.compiles).toBe(1);
    expect(runtime.list()).toHaveLength(20);
    // Later agents may start from the sha256 alone.
    await runtime.start(spec('late'), sha(bytes), 1);
    expect(runtime.state('late')).toBe('running');
  });

  it('refuses a duplicate name, a sha256 that does not match, an unknown sha256', async () => {
    const { runtime, deploy } = setup();
    const bytes = await echoAgent();
    await deploy('e', bytes);
    await expect(deploy('e', bytes)).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(runtime.start(spec('x'), 'ab'.repeat(32), 1, bytes)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runtime.start(spec('y'), 'cd'.repeat(32), 1)).rejects.toMatchObject({ code: 'INVALID_MODULE' });
    expect(runtime.has('x') || runtime.has('y')).toBe(false);
  });

  it('refuses a deploy whose agent_init fails or whose memory exceeds the limit, and forgets the agent', async () => {
    const { runtime, deploy } = setup();
    await expect(deploy('bad', await tagged('v1', 7))).rejects.toMatchObject({
      code: 'INVALID_MODULE',
      message: 'agent "bad" failed to start: agent_init returned 7',
      details: { phase: 'agent_init', result: 7 },
    });
    expect(runtime.has('bad')).toBe(false);
    await expect(deploy('big', await echoAgent(), { limits: { memory_pages: 2, fuel: 1, mailbox: 10 } })).rejects.toMatchObject({
      code: 'INVALID_MODULE',
      details: { min_pages: 3, limit_pages: 2 },
    });
  });

  it('upgrade: new version initialised before the switch, old one shut down, queued messages kept', async () => {
    const states: string[] = [];
    const { runtime, sink, deploy, logText } = setup({ observer: { onStateChange: (_a, from, to) => states.push(`${from}>${to}`) } });
    await deploy('a', await tagged('v1'));
    const v2 = await tagged('v2');
    await runtime.cache.load(v2);
    for (let i = 0; i < 3; i++) expect(runtime.deliver(message('a', { performative: 'inform' }), 'a')).toBe('queued');
    const upgraded = runtime.upgrade(spec('a'), sha(v2), 2, v2);
    expect(runtime.deliver(message('a', { performative: 'inform' }), 'a')).toBe('queued');
    const info = await upgraded;
    expect(info).toMatchObject({ version: 2, module_sha256: sha(v2), state: 'running' });
    await runtime.whenIdle();
    expect(logText('a')).toEqual(['v1 init', 'v2 init', 'v1 shutdown', 'v2 got', 'v2 got', 'v2 got', 'v2 got']);
    expect(states).toEqual(['null>deploying', 'deploying>running', 'running>draining', 'draining>running']);
    expect(sink.messages.map((m) => m.content)).toEqual(['bye']); // the old version's shutdown sends are committed
  });

  it('a failed upgrade leaves the old version running', async () => {
    const { runtime, deploy, logText } = setup();
    await deploy('a', await tagged('v1'));
    const bad = await tagged('v2', 1);
    await expect(runtime.upgrade(spec('a'), sha(bad), 2, bad)).rejects.toMatchObject({ code: 'INVALID_MODULE' });
    runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await runtime.whenIdle();
    expect(runtime.info('a')).toMatchObject({ version: 1, state: 'running' });
    expect(logText('a')).toEqual(['v1 init', 'v2 init', 'v1 got']);
  });

  it('upgrade restarts a failed agent', async () => {
    const { runtime, deploy } = setup();
    const trapping = await agentModule(() => ({ handle: 'unreachable' }));
    await deploy('a', trapping);
    for (let i = 0; i < 5; i++) runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await runtime.whenIdle();
    expect(runtime.state('a')).toBe('failed');
    const fixed = await echoAgent();
    await runtime.upgrade(spec('a'), sha(fixed), 2, fixed);
    expect(runtime.state('a')).toBe('running');
    expect(runtime.deliver(message('a'), 'a')).toBe('queued');
  });

  it('stop drains queued messages, runs agent_shutdown, then refuses messages; remove forgets the agent', async () => {
    const { runtime, deploy, logText } = setup();
    await deploy('a', await tagged('v1'));
    runtime.deliver(message('a', { performative: 'inform' }), 'a');
    runtime.deliver(message('a', { performative: 'inform' }), 'a');
    const stopped = runtime.stop('a');
    expect(runtime.state('a')).toBe('draining');
    expect(runtime.deliver(message('a'), 'a')).toBe('unavailable');
    await stopped;
    expect(runtime.state('a')).toBe('stopped');
    expect(logText('a')).toEqual(['v1 init', 'v1 got', 'v1 got', 'v1 shutdown']);
    await runtime.remove('a');
    expect(runtime.has('a')).toBe(false);
    expect(runtime.cache.size).toBe(0);
    expect(() => runtime.info('a')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('shutdown stops every agent and refuses new work', async () => {
    const { runtime, deploy, logText } = setup();
    await deploy('a', await tagged('a'));
    await deploy('b', await tagged('b'));
    await runtime.shutdown();
    expect([runtime.state('a'), runtime.state('b')]).toEqual(['stopped', 'stopped']);
    expect(logText('a')).toContain('a shutdown');
    expect(runtime.deliver(message('a'), 'a')).toBe('unavailable');
    await expect(deploy('c', await echoAgent())).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('pages and follows logs', async () => {
    const { runtime, deploy } = setup({ logRingSize: 4 });
    await deploy('a', await tagged('v1'));
    const followed: number[] = [];
    const unfollow = runtime.followLogs('a', (line) => followed.push(line.seq));
    for (let i = 0; i < 5; i++) runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await runtime.whenIdle();
    unfollow();
    runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await runtime.whenIdle();
    expect(followed).toEqual([2, 3, 4, 5, 6]);
    expect(runtime.logs('a').map((l) => l.seq)).toEqual([4, 5, 6, 7]);
    expect(runtime.logs('a', 5, 1).map((l) => l.seq)).toEqual([6]);
  });
});
