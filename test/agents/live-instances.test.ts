// LiveInstances below its cap: an agent instantiated again and again (restarts after traps, upgrades) leaves
// a stale entry in the age queue each time; the queue stays bounded by the live count, not by history.
import { describe, expect, it } from 'vitest';
import type { AgentInstance } from '../../src/agents/agent-instance.ts';
import type { AgentSlot } from '../../src/agents/agent-slot.ts';
import { LiveInstances } from '../../src/agents/live-instances.ts';

const slotWith = (instance: object) => ({ instance }) as unknown as AgentSlot & { instance: AgentInstance };

describe('LiveInstances', () => {
  it('keeps its queue bounded while one agent is instantiated 100,000 times under the cap', () => {
    const live = new LiveInstances(10_000, () => {
      throw new Error('nothing is evicted under the cap');
    });
    const steady = Array.from({ length: 10 }, () => slotWith({}));
    for (const slot of steady) live.started(slot);
    const churning = slotWith({});
    let peak = 0;
    for (let i = 0; i < 100_000; i++) {
      (churning as { instance: object }).instance = {};
      live.started(churning);
      peak = Math.max(peak, live.queued);
    }
    expect(live.size).toBe(11);
    expect(peak).toBeLessThanOrEqual(2 * 11 + 1024 + 1);
    expect(live.evicted).toBe(0);
  });

  it('compacting keeps the live entries in their age order: the oldest idle one is still evicted first', () => {
    const evicted: AgentSlot[] = [];
    const live = new LiveInstances(2, (slot) => evicted.push(slot));
    const idle = (slot: AgentSlot) =>
      Object.assign(slot, { state: 'running', stopping: false, scheduled: false, mailbox: { length: 0 }, pendingToolCalls: 0, instance: { host: { pendingTimers: 0 } } });
    const first = idle(slotWith({}));
    live.started(first);
    const churning = idle(slotWith({}));
    for (let i = 0; i < 5_000; i++) {
      churning.instance = { host: { pendingTimers: 0 } } as never;
      live.started(churning);
    }
    const third = idle(slotWith({}));
    live.started(third);
    expect(evicted).toEqual([first]);
  });
});
