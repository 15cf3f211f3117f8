// Issue 10, findings 4, 6 and 8 in the agent runtime, with the hostile agents of test/fixtures/wat/hostile-*.wat
// (kept there for the soak test): a start function that loops, an invocation cheap in fuel but slow in time,
// an agent sending to itself for ever, one flooding a neighbour.
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import type { AclMessage } from '../../src/messaging/message.ts';
import { compileWat, watFixture } from '../helpers/modules.ts';
import { message, setup } from '../agents/fixtures.ts';

describe('hostile agents in the runtime', () => {
  it('a start function that loops is FUEL_EXHAUSTED, not "instantiate trapped (unreachable)"', async () => {
    const { deploy } = setup();
    const bytes = await watFixture('hostile-start-spinner');
    const error = await deploy('spin', bytes, { limits: { memory_pages: 16, fuel: 2_000_000, mailbox: 10 } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CaxtonError);
    expect((error as CaxtonError).message).toMatch(/fuel_exhausted|FUEL_EXHAUSTED/);
    expect((error as CaxtonError).message).not.toMatch(/unreachable/);
  });

  it('an invocation slower than agents.max_invocation_ms traps as wall_clock_exceeded though fuel is left', async () => {
    const traps: string[] = [];
    const { runtime, sink, deploy } = setup({ limits: { maxInvocationMs: 50 }, observer: { onTrap: (_a, reason) => traps.push(reason) } });
    // 32 KiB fills at 1 fuel per 4 bytes: 5×10^10 fuel is ~6 M fills, seconds of work, so the 50 ms bound
    // comes first however fast the machine is (10^9 was ~50 ms on a quiet one: a race with the bound).
    await deploy('slow', await watFixture('hostile-slow-fill'), { limits: { memory_pages: 16, fuel: 50_000_000_000, mailbox: 10 } });
    runtime.deliver(message('slow', { sender: 'client:alice' }), 'slow');
    await runtime.whenIdle();
    expect(traps).toEqual(['wall_clock_exceeded']);
    const reply = sink.messages.find((m) => m.receiver === 'client:alice');
    expect(reply?.content).toMatchObject({ error: { code: 'AGENT_TRAPPED', details: { reason: 'wall_clock_exceeded' } } });
    expect(runtime.stats('slow').traps_by_reason).toEqual({ wall_clock_exceeded: 1 });
  });

  it('a memory hog stops at its limit (memory_exhausted), which agents.max_memory_pages caps', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('hog', await watFixture('hostile-memory-hog'), { limits: { memory_pages: 1024, fuel: 1_000_000, mailbox: 10 } });
    runtime.deliver(message('hog'), 'hog');
    await runtime.whenIdle();
    expect(runtime.stats('hog').traps_by_reason).toEqual({ memory_exhausted: 1 });
    expect(sink.messages[0]?.content).toMatchObject({ error: { details: { reason: 'memory_exhausted' } } });
  });

  it('a trap storm makes the agent failed after 5 traps; later requests get failure', async () => {
    const { runtime, sink, deploy } = setup();
    await deploy('storm', await watFixture('hostile-trap-storm'), { limits: { memory_pages: 16, fuel: 1_000_000, mailbox: 100 } });
    for (let i = 0; i < 8; i++) runtime.deliver(message('storm', { sender: 'client:alice' }), 'storm');
    await runtime.whenIdle();
    expect(runtime.state('storm')).toBe('failed');
    expect(runtime.stats('storm').traps).toBe(5);
    expect(sink.messages.filter((m) => m.performative === 'failure')).toHaveLength(8);
  });

  it('bulk memory is charged by size: a loop of 4 MiB fills runs out of fuel, not for hours', async () => {
    const { runtime, deploy } = setup({ limits: { maxInvocationMs: 600_000 } });
    await deploy('fill', await watFixture('hostile-big-fill'), { limits: { memory_pages: 128, fuel: 50_000_000, mailbox: 10 } });
    runtime.deliver(message('fill'), 'fill');
    await runtime.whenIdle();
    expect(runtime.stats('fill').traps_by_reason).toEqual({ fuel_exhausted: 1 });
  });

  it('fuel used is still exact across slices (the spinner at 5 slices of budget)', async () => {
    const { runtime, deploy } = setup();
    const fuel = 5 * (1 << 20) + 12_345;
    await deploy('spin', await watFixture('hostile-spinner'), { limits: { memory_pages: 16, fuel, mailbox: 10 } });
    runtime.deliver(message('spin'), 'spin');
    await runtime.whenIdle();
    expect(runtime.stats('spin')).toMatchObject({ fuel_used: fuel, traps_by_reason: { fuel_exhausted: 1 } });
  });

  it('an agent sending to itself is stopped by its send rate: send_message returns -3', async () => {
    // The sink hands every send back to the runtime, as the router does for a local receiver.
    let sends = 0;
    const { runtime, deploy, logText } = setup({
      limits: { sendRate: 1_000, sendBurst: 500 },
      sink: {
        route: (m: AclMessage) => {
          sends++;
          if (m.receiver === 'flood') runtime.deliver(m, 'flood');
        },
      },
    });
    await deploy('flood', await watFixture('hostile-self-flood'), { limits: { memory_pages: 16, fuel: 1_000_000, mailbox: 10 } });
    runtime.deliver(message('flood', { performative: 'inform' }), 'flood');
    // The test clock does not move: the bucket never refills, so the loop ends after the burst.
    await runtime.whenIdle();
    expect(sends).toBe(500);
    expect(logText('flood')).toContain('refused=-3');
  });
});

describe('fairness under a flood', () => {
  /**
   * A runtime whose sends are routed back into it, with an echo agent deployed, counting the sends of `hog`.
   * `before()` gives `hog` a message, then the echo agent a request, and resolves to how many sends `hog` had
   * made when the echo agent answered (`hog` is stopped then).
   */
  async function hogAndEcho(hog: string) {
    let sends = 0;
    let sendsBeforeEcho = -1;
    const env = setup({
      sink: {
        route: (m: AclMessage) => {
          if (m.sender === hog) sends++;
          if (m.sender === 'echo') sendsBeforeEcho = sends;
          const to = m.receiver as string;
          if (env.runtime.has(to)) env.runtime.deliver(m, to);
        },
      },
    });
    const { echoAgent } = await import('../agents/fixtures.ts');
    await env.deploy('echo', await echoAgent());
    const before = async (): Promise<number> => {
      env.runtime.deliver(message(hog, { performative: 'inform' }), hog);
      env.runtime.deliver(message('echo', { sender: 'client:bob' }), 'echo');
      await new Promise<void>((resolve) => {
        const poll = () => (sendsBeforeEcho >= 0 ? resolve() : setImmediate(poll));
        poll();
      });
      await env.runtime.stop(hog);
      return sendsBeforeEcho;
    };
    return { ...env, before };
  }

  it('an agent flooding a full neighbour lets an unrelated agent run after one outbox, not 32', async () => {
    const { runtime, deploy, before } = await hogAndEcho('flood');
    await deploy('victim', await watFixture('hostile-trap-storm'), { limits: { memory_pages: 16, fuel: 1_000_000, mailbox: 1 } });
    await runtime.stop('victim');
    await deploy('flood', await watFixture('hostile-neighbour-flood'), { limits: { memory_pages: 16, fuel: 10_000_000, mailbox: 10 } });
    const floodSendsBeforeEcho = await before();
    // One visit of the flooder is bounded by sendsPerAgentVisit (1,000) plus the outbox of the invocation
    // that crossed it; before, a visit ran 32 invocations of ~1,000 sends each.
    expect(floodSendsBeforeEcho).toBeGreaterThan(0);
    expect(floodSendsBeforeEcho).toBeLessThanOrEqual(2_002);
  });

  it('a self-feeding agent that burns much fuel per invocation lets an unrelated agent run after one invocation, not 32', async () => {
    const { deploy, before } = await hogAndEcho('spin');
    // 5M iterations (~30M fuel, a few ms) per invocation, then a message to itself: busy for ever.
    const send = '{"performative":"inform","receiver":"spin","content":1}';
    const spinner = await compileWat(`(module
      (import "caxton" "send_message" (func $send (param i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) ${JSON.stringify(send)})
      (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "handle_message") (param $ptr i32) (param $len i32) (result i32) (local $i i32)
        (local.set $i (i32.const 5000000))
        (loop $l (local.set $i (i32.sub (local.get $i) (i32.const 1))) (br_if $l (local.get $i)))
        (drop (call $send (i32.const 16) (i32.const ${send.length})))
        (i32.const 0)))`);
    await deploy('spin', spinner, { limits: { memory_pages: 1, fuel: 100_000_000, mailbox: 10 } });
    const spinsBeforeEcho = await before();
    // One visit ends once it used fuelPerAgentVisit (8 slices): here after one invocation. Before, nothing but
    // the count of items ended it: 32 invocations, whatever each cost.
    expect(spinsBeforeEcho).toBeGreaterThanOrEqual(0);
    expect(spinsBeforeEcho).toBeLessThanOrEqual(1);
  });
});
