// The ready scheduler in isolation: light agents (a visit costing little) are served in rounds with one heavy
// visit between two rounds, so an echo waits for one heavy visit, not a visit of every heavy agent; heavy
// agents still progress; order within each queue is kept.
import { describe, expect, it } from 'vitest';
import { HEAVY_VISIT_COST, ReadyScheduler, type SchedulableSlot } from '../../src/agents/ready-scheduler.ts';

class FakeSlot implements SchedulableSlot {
  scheduled = false;
  heavy = false;
  constructor(
    readonly name: string,
    public work: number,
    readonly cost: number,
  ) {}
  hasWork(): boolean {
    return this.work > 0;
  }
}

function schedulerOver(visits: string[], budget = { invocationsPerTurn: 1_000_000, turnBudgetMs: 1_000 }) {
  const scheduler = new ReadyScheduler<FakeSlot>(
    (slot) => {
      visits.push(slot.name);
      slot.work--;
      return slot.cost;
    },
    () => false,
    (err) => {
      throw err;
    },
    budget,
  );
  return scheduler;
}

describe('ready scheduler', () => {
  it('serves a light agent after one heavy visit, not after a visit of each of five heavy agents', async () => {
    const visits: string[] = [];
    const scheduler = schedulerOver(visits);
    const heavies = Array.from({ length: 5 }, (_, i) => new FakeSlot(`heavy${i}`, 3, HEAVY_VISIT_COST + 1));
    for (const h of heavies) scheduler.schedule(h);
    await scheduler.whenIdle();
    // Their first visits show them heavy; the echo arrives while all five wait with work.
    visits.length = 0;
    for (const h of heavies) {
      h.work = 3;
      scheduler.schedule(h);
    }
    const echo = new FakeSlot('echo', 1, 1);
    scheduler.schedule(echo);
    await scheduler.whenIdle();
    expect(visits.indexOf('echo')).toBe(0);
    // Arriving after a heavy visit began: served right after it.
    visits.length = 0;
    for (const h of heavies) {
      h.work = 3;
      scheduler.schedule(h);
    }
    await new Promise<void>((resolve) => {
      const first = heavies[0];
      const scheduleEchoOnce = () => {
        echo.work = 1;
        scheduler.schedule(echo);
        resolve();
      };
      first.hasWork = () => {
        if (!echo.scheduled && visits.length === 1) scheduleEchoOnce();
        return first.work > 0;
      };
    });
    await scheduler.whenIdle();
    expect(visits.slice(0, 3)).toEqual(['heavy0', 'echo', 'heavy1']);
  });

  it('gives each heavy agent a visit after every light round, so busy light agents cannot starve it', async () => {
    const visits: string[] = [];
    const scheduler = schedulerOver(visits);
    const spinner = new FakeSlot('spinner', 4, 100);
    scheduler.schedule(spinner);
    await scheduler.whenIdle();
    visits.length = 0;
    spinner.work = 3;
    scheduler.schedule(spinner);
    // Two light agents that always have more work (a ping-pong that never ends within the test).
    const a = new FakeSlot('a', 12, 1);
    const b = new FakeSlot('b', 12, 1);
    scheduler.schedule(a);
    scheduler.schedule(b);
    await scheduler.whenIdle();
    expect(visits.slice(0, 9)).toEqual(['a', 'b', 'spinner', 'a', 'b', 'spinner', 'a', 'b', 'spinner']);
    expect(visits.filter((v) => v === 'spinner')).toHaveLength(3);
  });

  it('moves an agent between the queues by the cost of its last visit', async () => {
    const visits: string[] = [];
    const scheduler = schedulerOver(visits);
    const agent = new FakeSlot('agent', 1, HEAVY_VISIT_COST + 1);
    scheduler.schedule(agent);
    await scheduler.whenIdle();
    expect(agent.heavy).toBe(true);
    (agent as { cost: number }).cost = HEAVY_VISIT_COST;
    agent.work = 1;
    scheduler.schedule(agent);
    await scheduler.whenIdle();
    expect(agent.heavy).toBe(false);
  });

  it('keeps arrival order within the light queue across turns cut short by the budget', async () => {
    const visits: string[] = [];
    const scheduler = schedulerOver(visits, { invocationsPerTurn: 3, turnBudgetMs: 1_000 });
    const slots = Array.from({ length: 10 }, (_, i) => new FakeSlot(`s${i}`, 1, 1));
    for (const s of slots) scheduler.schedule(s);
    await scheduler.whenIdle();
    expect(visits).toEqual(slots.map((s) => s.name));
  });
});
