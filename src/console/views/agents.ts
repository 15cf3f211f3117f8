// Agents by node: state, version and accounting (invocations, messages, fuel, traps, mailbox, memory) for
// the agents of this node; agents of other nodes as the cluster registry knows them. Fetched again when an
// agent changes state, and every few seconds for the counters.
import { html } from 'htm/preact';
import { useEffect } from 'preact/hooks';
import { call } from '../api.ts';
import { liveEvents } from '../live-events.ts';
import { href } from '../route.ts';
import type { Agent } from '../types.ts';
import { usePolled } from '../use-poll.ts';

export const number = (n: number | undefined): string => (n === undefined ? '–' : n.toLocaleString('en-US'));

/** `node`: show that node's agents only (the cluster map links here). */
export function AgentsView({ node }: { node?: string }) {
  const agents = usePolled(() => call<{ agents: Agent[] }>('/api/v1/agents').then((b) => b.agents), 3000);
  useEffect(() => liveEvents.subscribe((event) => event.type.startsWith('agent.') && agents.refresh()), []);
  const byNode = new Map<string, Agent[]>();
  for (const agent of agents.value ?? []) {
    if (node && agent.node !== node) continue;
    const list = byNode.get(agent.node) ?? [];
    list.push(agent);
    byNode.set(agent.node, list);
  }
  return html`
    <section>
      <h2>Agents${node ? ` on ${node}` : ''} <a class="button small" href=${href('deploy')}>Deploy…</a>
        ${node && html`<a class="button small" href=${href('agents')}>All nodes</a>`}</h2>
      ${agents.error && html`<p class="error">${agents.error}</p>`}
      ${agents.value !== undefined && byNode.size === 0 && html`<p class="muted">No agents${node ? ` on ${node}` : ''} yet: deploy one.</p>`}
      ${[...byNode.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(
          ([node, list]) => html`
            <h3>node ${node}</h3>
            <table class="grid" data-node=${node}>
              <thead>
                <tr><th>Name</th><th>State</th><th>Version</th><th>Invocations</th><th>In</th><th>Out</th><th>Fuel used</th><th>Traps</th><th>Mailbox</th><th>Memory (pages)</th></tr>
              </thead>
              <tbody>
                ${list
                  .sort((a, b) => a.name.localeCompare(b.name))
                  .map(
                    (a) => html`<tr data-agent=${a.name}>
                      <td><a href=${href('agents', a.name)}>${a.name}</a></td>
                      <td><span class=${`badge ${a.state}`}>${a.state}</span></td>
                      <td>${a.version}</td>
                      <td>${number(a.stats?.invocations)}</td>
                      <td>${number(a.stats?.messages_in)}</td>
                      <td>${number(a.stats?.messages_out)}</td>
                      <td>${number(a.stats?.fuel_used)}</td>
                      <td>${number(a.stats?.traps)}</td>
                      <td>${number(a.stats?.mailbox_depth)}${a.limits ? html`<span class="muted"> / ${a.limits.mailbox}</span>` : ''}</td>
                      <td>${number(a.stats?.memory_pages)}${a.limits ? html`<span class="muted"> / ${a.limits.memory_pages}</span>` : ''}</td>
                    </tr>`,
                  )}
              </tbody>
            </table>
          `,
        )}
    </section>
  `;
}
