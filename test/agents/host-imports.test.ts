import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { agentModule, message, setup, wat } from './fixtures.ts';

const LAST = 3 * 65536; // end of the fixtures' 3-page memory

/** An agent whose handle_message body is `body`, run once; returns its log lines. */
async function runOnce(body: string | ((s: (t: string) => string) => string), options: Parameters<typeof setup>[0] = {}, specOverrides = {}) {
  const env = setup(options);
  const bytes = await agentModule((s) => ({ handle: `${typeof body === 'string' ? body : body(s)} (i32.const 0)` }));
  await env.deploy('a', bytes, specOverrides);
  env.runtime.deliver(message('a', { performative: 'inform' }), 'a');
  await env.runtime.whenIdle();
  return { ...env, logs: env.logText('a') };
}

describe('caxton imports', () => {
  it('checks every pointer/length pair against the current memory size (-1)', async () => {
    const { logs } = await runOnce((s) => `
      (call $report ${s('send_negative')} (call $send (i32.const -5) (i32.const 10)))
      (call $report ${s('send_huge_len')} (call $send (i32.const 0) (i32.const 0x7fffffff)))
      (call $report ${s('send_past_end')} (call $send (i32.const ${LAST - 4}) (i32.const 10)))
      (call $log (i32.const 2) (i32.const ${LAST - 1}) (i32.const 2))
      (call $report ${s('random')} (call $random (i32.const ${LAST - 1}) (i32.const 2)))
      (call $report ${s('random_ok')} (call $random (i32.const 0) (i32.const 16)))
      (call $report ${s('name')} (call $agent_name (i32.const -1) (i32.const 8)))
      (call $report ${s('tool')} (call $call_tool (i32.const ${LAST}) (i32.const 1)))`);
    expect(logs).toEqual(['send_negative=-1', 'send_huge_len=-1', 'send_past_end=-1', 'random=-1', 'random_ok=0', 'name=-1', 'tool=-1']);
  });

  it('sees memory growth when checking pointers', async () => {
    const { logs } = await runOnce((s) => `
      (call $report ${s('before')} (call $random (i32.const ${LAST}) (i32.const 8)))
      (drop (memory.grow (i32.const 1)))
      (call $report ${s('after')} (call $random (i32.const ${LAST}) (i32.const 8)))`);
    expect(logs).toEqual(['before=-1', 'after=0']);
  });

  it('refuses malformed JSON and unknown fields (-1), too large (-2), a full outbox (-3)', async () => {
    const big = JSON.stringify({ performative: 'inform', receiver: 'b', content: 'x'.repeat(100) });
    const { logs, sink } = await runOnce(
      (s) => `
      (call $report ${s('bad_json')} (call $send ${s('{"performative":')}))
      (call $report ${s('unknown_field')} (call $send ${s('{"performative":"inform","receiver":"b","bogus":1}')}))
      (call $report ${s('bad_receiver')} (call $send ${s('{"performative":"inform","receiver":"NOT A NAME"}')}))
      (call $report ${s('too_large')} (call $send ${s(big)}))
      (call $report ${s('one')} (call $send ${s('{"performative":"inform","receiver":"b"}')}))
      (call $report ${s('two')} (call $send ${s('{"performative":"inform","receiver":"b","conversation_id":"c9"}')}))
      (call $report ${s('three')} (call $send ${s('{"performative":"inform","receiver":"b"}')}))`,
      { limits: { maxMessageBytes: 100, maxOutboxPerInvocation: 2 } },
    );
    expect(logs.filter((l) => l.includes('='))).toEqual(['bad_json=-1', 'unknown_field=-1', 'bad_receiver=-1', 'too_large=-2', 'one=0', 'two=0', 'three=-3']);
    expect(logs.some((l) => l.includes('send_message refused') && l.includes('bogus'))).toBe(true);
    expect(sink.messages).toHaveLength(2);
    expect(sink.messages[1].conversation_id).toBe('c9');
  });

  it('agent_name writes the name when it fits and always returns its length', async () => {
    const { logs } = await runOnce(
      (s) => `
      (call $report ${s('len_small_cap')} (call $agent_name (i32.const 0x2000) (i32.const 2)))
      (call $report ${s('len')} (call $agent_name (i32.const 0x2000) (i32.const 64)))
      (call $log (i32.const 3) (i32.const 0x2000) (i32.const 1))`,
    );
    expect(logs).toEqual(['len_small_cap=1', 'len=1', 'a']);
  });

  it('log levels are clamped and now_micros is the clock in microseconds', async () => {
    const env = await runOnce(
      (s) => `
      (call $log (i32.const 9) ${s('loud')})
      (call $log (i32.const -3) ${s('quiet')})
      (call $report ${s('ms_mod_1000')} (i32.wrap_i64 (i64.rem_u (i64.div_u (call $now) (i64.const 1000)) (i64.const 1000))))`,
    );
    const lines = env.runtime.logs('a');
    expect(lines.map((l) => l.level)).toEqual(['error', 'trace', 'info']);
    expect(env.logs[2]).toBe(`ms_mod_1000=${env.clock.ms % 1000}`);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3]);
  });

  it('fires timers in due order through the mailbox; cancel_timer answers 0, then -5', async () => {
    const { runtime, timers, deploy, logText } = setup();
    const bytes = await agentModule((s) => ({
      init: `
        (call $report ${s('t30')} (call $set_timer (i32.const 30)))
        (call $report ${s('t10')} (call $set_timer (i32.const 10)))
        (call $report ${s('t20')} (call $set_timer (i32.const 20)))
        (call $report ${s('t5')} (call $set_timer (i32.const 5)))
        (call $report ${s('cancel4')} (call $cancel_timer (i32.const 4)))
        (call $report ${s('cancel4_again')} (call $cancel_timer (i32.const 4)))
        (call $report ${s('cancel99')} (call $cancel_timer (i32.const 99)))
        (call $report ${s('negative')} (call $set_timer (i32.const -1)))
        (i32.const 0)`,
      timer: `(call $report ${s('fired')} (local.get $id))`,
    }));
    await deploy('a', bytes);
    timers.advance(100);
    await runtime.whenIdle();
    expect(logText('a')).toEqual(['t30=1', 't10=2', 't20=3', 't5=4', 'cancel4=0', 'cancel4_again=-5', 'cancel99=-5', 'negative=-1', 'fired=2', 'fired=3', 'fired=1']);
  });

  it('bounds timers per agent (-3) and forgets them when the instance traps', async () => {
    const { runtime, timers, deploy, logText } = setup({ limits: { maxTimersPerAgent: 2 } });
    const bytes = await agentModule((s) => ({
      init: `(call $report ${s('a')} (call $set_timer (i32.const 10))) (call $report ${s('b')} (call $set_timer (i32.const 10)))
             (call $report ${s('c')} (call $set_timer (i32.const 10))) (i32.const 0)`,
      handle: 'unreachable',
      timer: `(call $report ${s('fired')} (local.get $id))`,
    }));
    await deploy('a', bytes);
    expect(logText('a')).toEqual(['a=1', 'b=2', 'c=-3']);
    runtime.deliver(message('a'), 'a');
    await runtime.whenIdle();
    expect(timers.size).toBe(0);
    timers.advance(100);
    await runtime.whenIdle();
    expect(logText('a').filter((l) => l.startsWith('fired'))).toEqual([]);
  });

  it('call_tool: -4 and an audit report when not granted; a granted call ends as a failure from the default gateway', async () => {
    const denied: string[] = [];
    const env = setup({ observer: { onPermissionDenied: (agent, what) => denied.push(`${agent}:${what}`) } });
    const bytes = await agentModule((s) => ({
      init: `
        (call $report ${s('denied')} (call $call_tool ${s('{"server":"state","tool":"delete","arguments":{}}')}))
        (call $report ${s('granted')} (call $call_tool ${s('{"server":"state","tool":"store","arguments":{"key":"k","value":1}}')}))
        (call $report ${s('malformed')} (call $call_tool ${s('{"server":"state"}')}))
        (i32.const 0)`,
      handle: '(call $log (i32.const 2) (local.get $ptr) (local.get $len)) (i32.const 0)',
    }));
    await env.deploy('a', bytes, { tools: { state: ['store', 'retrieve'] } });
    await env.runtime.whenIdle();
    const logs = env.logText('a');
    expect(logs.slice(0, 2)).toEqual(['permission denied: tool state/delete', 'denied=-4']);
    expect(logs).toContain('granted=1');
    expect(logs).toContain('malformed=-1');
    expect(denied).toEqual(['a:tool state/delete']);
    const result = JSON.parse(logs[logs.length - 1]) as AclMessage;
    expect(result).toMatchObject({ performative: 'failure', sender: 'tool:state', receiver: 'a', in_reply_to: 'tool-1' });
    expect(result.content).toMatchObject({ error: { code: 'UNAVAILABLE' } });
  });

  it('call_tool: a granted call reaches the gateway after the invocation and its result arrives as inform', async () => {
    const calls: unknown[] = [];
    const env = setup({
      toolGateway: {
        call: async (agent, server, tool, args) => {
          calls.push({ agent, server, tool, args });
          if (tool === 'boom') throw new CaxtonError('INVALID_ARGUMENT', 'no such key');
          return { content: [{ type: 'text', text: 'ok' }], structuredContent: { ok: true } };
        },
      },
    });
    const bytes = await agentModule((s) => ({
      init: `
        (drop (call $call_tool ${s('{"server":"mem","tool":"store","arguments":{"key":"k"}}')}))
        (drop (call $call_tool ${s('{"server":"mem","tool":"boom"}')}))
        (i32.const 0)`,
      handle: '(call $log (i32.const 2) (local.get $ptr) (local.get $len)) (i32.const 0)',
    }));
    await env.deploy('a', bytes, { tools: { mem: '*' } });
    await env.runtime.whenIdle();
    expect(calls).toEqual([
      { agent: 'a', server: 'mem', tool: 'store', args: { key: 'k' } },
      { agent: 'a', server: 'mem', tool: 'boom', args: {} },
    ]);
    const received = env.logText('a').map((l) => JSON.parse(l) as AclMessage);
    expect(received[0]).toMatchObject({ performative: 'inform', sender: 'tool:mem', in_reply_to: 'tool-1', content: { structuredContent: { ok: true } } });
    expect(received[1]).toMatchObject({ performative: 'failure', in_reply_to: 'tool-2', content: { error: { code: 'INVALID_ARGUMENT', message: 'no such key' } } });
  });

  it('a tool call of a trapped invocation is never issued', async () => {
    let calls = 0;
    const env = setup({ toolGateway: { call: async () => ++calls } });
    const bytes = await agentModule((s) => ({
      handle: `(drop (call $call_tool ${s('{"server":"mem","tool":"x"}')})) unreachable`,
    }));
    await env.deploy('a', bytes, { tools: { mem: '*' } });
    env.runtime.deliver(message('a'), 'a');
    await env.runtime.whenIdle();
    expect(calls).toBe(0);
  });
});

describe('WASI shim', () => {
  const wasiAgent = (body: string, data: string) => `(module
    (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
    (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
    (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fdstat (param i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
    (import "caxton" "log" (func $log (param i32 i32 i32)))
    (memory (export "memory") 1)
    ${data}
    (func (export "agent_alloc") (param i32) (result i32) (i32.const 0x8000))
    (func (export "handle_message") (param $ptr i32) (param $len i32) (result i32) ${body}))`;

  it('fd_write to stdout/stderr reaches the agent log line by line; other functions answer ENOSYS', async () => {
    const env = setup();
    // iovecs at 0x100: "hello\\nwor" then "ld\\n"; 0x200: "oops\\n" for stderr
    const bytes = await wat(
      wasiAgent(
        `(drop (call $fd_write (i32.const 1) (i32.const 0x100) (i32.const 2) (i32.const 0x300)))
         (drop (call $fd_write (i32.const 2) (i32.const 0x110) (i32.const 1) (i32.const 0x300)))
         (if (i32.ne (i32.load (i32.const 0x300)) (i32.const 5)) (then unreachable))
         (if (i32.ne (call $fd_write (i32.const 7) (i32.const 0x100) (i32.const 1) (i32.const 0x300)) (i32.const 8)) (then unreachable))
         (if (i32.ne (call $fd_write (i32.const 1) (i32.const 0xfffc) (i32.const 1) (i32.const 0x300)) (i32.const 21)) (then unreachable))
         (if (i32.ne (call $path_open (i32.const 3) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0)) (i32.const 52)) (then unreachable))
         (if (i32.ne (call $clock (i32.const 0) (i64.const 1) (i32.const 0x400)) (i32.const 0)) (then unreachable))
         (if (i64.ne (i64.div_u (i64.load (i32.const 0x400)) (i64.const 1000000)) (i64.const ${env.clock.ms})) (then unreachable))
         (if (i32.ne (call $fdstat (i32.const 1) (i32.const 0x500)) (i32.const 0)) (then unreachable))
         (if (i32.ne (i32.load8_u (i32.const 0x500)) (i32.const 2)) (then unreachable))
         (if (i32.ne (call $fdstat (i32.const 5) (i32.const 0x500)) (i32.const 8)) (then unreachable))
         (if (i32.ne (call $seek (i32.const 1) (i64.const 0) (i32.const 0) (i32.const 0x600)) (i32.const 70)) (then unreachable))
         (drop (call $fd_write (i32.const 1) (i32.const 0x118) (i32.const 1) (i32.const 0x300)))
         (if (i32.ne (call $close (i32.const 1)) (i32.const 0)) (then unreachable))
         (i32.const 0)`,
        `(data (i32.const 0x118) "\\00\\10\\00\\00\\05\\00\\00\\00")
         (data (i32.const 0x100) "\\00\\10\\00\\00\\09\\00\\00\\00\\09\\10\\00\\00\\03\\00\\00\\00")
         (data (i32.const 0x110) "\\20\\10\\00\\00\\05\\00\\00\\00")
         (data (i32.const 0x1000) "hello\\nworld\\n")
         (data (i32.const 0x1020) "oops\\n")`,
      ),
    );
    await env.deploy('w', bytes);
    env.runtime.deliver(message('w', { performative: 'inform' }), 'w');
    await env.runtime.whenIdle();
    expect(env.runtime.stats('w').traps).toBe(0);
    expect(env.runtime.logs('w').map((l) => [l.level, l.message])).toEqual([
      ['info', 'hello'],
      ['info', 'world'],
      ['warn', 'oops'],
      ['info', 'hello'], // written without a newline, flushed by fd_close
    ]);
  });

  it('proc_exit ends the invocation as a trap', async () => {
    const env = setup();
    await env.deploy('w', await wat(wasiAgent('(call $exit (i32.const 3)) (i32.const 0)', '')));
    env.runtime.deliver(message('w'), 'w');
    await env.runtime.whenIdle();
    expect(env.runtime.stats('w')).toMatchObject({ traps: 1, last_error: expect.stringContaining('proc_exit(3)') });
    expect(env.sink.messages.map((m) => (m.content as { error: { code: string } }).error.code)).toEqual(['AGENT_TRAPPED']);
  });
});
