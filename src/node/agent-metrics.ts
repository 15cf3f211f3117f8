// Per-agent accounting on /metrics, read from the runtime at scrape time (nothing on the hot path).
// Node totals always; per-agent series only while the node has at most PER_AGENT_SERIES_MAX agents,
// because a series per agent and reason at 100,000 agents would make each scrape megabytes long
// (per-agent figures stay available at any scale in GET /api/v1/agents/{name} and `caxton agent inspect`).
import { Gauge, type Registry } from 'prom-client';
import type { AgentInfo } from './services.ts';

export const PER_AGENT_SERIES_MAX = 1_000;

export function registerAgentMetrics(registry: Registry, agents: () => AgentInfo[]): void {
  let snapshot: AgentInfo[] = [];
  let taken = 0;
  // One runtime read per scrape, shared by the gauges below (prom-client collects them one by one).
  const read = (): AgentInfo[] => {
    const now = Date.now();
    if (now - taken > 100) {
      snapshot = agents();
      taken = now;
    }
    return snapshot;
  };
  const gauge = (name: string, help: string, value: (a: AgentInfo) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['agent'],
      registers: [registry],
      collect() {
        this.reset();
        const all = read();
        let total = 0;
        for (const a of all) total += value(a);
        this.set({ agent: '' }, total);
        if (all.length <= PER_AGENT_SERIES_MAX) for (const a of all) this.set({ agent: a.name }, value(a));
      },
    });
  };
  gauge('caxton_agent_fuel_used', 'Fuel used by agents (agent="" is the node total).', (a) => a.stats.fuel_used);
  gauge('caxton_agent_invocations', 'Invocations by agent (agent="" is the node total).', (a) => a.stats.invocations);
  gauge('caxton_agent_memory_pages', 'Linear memory of live agent instances in 64 KiB pages (agent="" is the node total).', (a) => a.stats.memory_pages);
  gauge('caxton_agent_messages_in', 'Messages delivered to agents (agent="" is the node total).', (a) => a.stats.messages_in);
  gauge('caxton_agent_messages_out', 'Messages sent by agents (agent="" is the node total).', (a) => a.stats.messages_out);
  gauge('caxton_agent_mailbox_depth', 'Messages waiting per agent (agent="" is the node total).', (a) => a.stats.mailbox_depth);
  new Gauge({
    name: 'caxton_agent_traps',
    help: 'Traps by agent and reason (agent="" is the node total).',
    labelNames: ['agent', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      const all = read();
      const totals = new Map<string, number>();
      for (const a of all) {
        for (const [reason, n] of Object.entries(a.stats.traps_by_reason)) {
          totals.set(reason, (totals.get(reason) ?? 0) + n);
          if (all.length <= PER_AGENT_SERIES_MAX) this.set({ agent: a.name, reason }, n);
        }
      }
      for (const [reason, n] of totals) this.set({ agent: '', reason }, n);
    },
  });
}
