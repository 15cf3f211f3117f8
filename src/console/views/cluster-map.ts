// The cluster map: every member as a circle coloured by its state, placed around a ring, with its agent
// count; membership events from the stream change a member's state at once, the full list is fetched again
// every few seconds (agent counts) and when an event names a member not yet drawn.
import { html } from 'htm/preact';
import { useEffect } from 'preact/hooks';
import { call } from '../api.ts';
import { liveEvents } from '../live-events.ts';
import { href } from '../route.ts';
import type { ClusterStatus, Member } from '../types.ts';
import { usePolled } from '../use-poll.ts';

const SIZE = 420;

export function ClusterMap() {
  const members = usePolled(() => call<{ members: Member[] }>('/api/v1/cluster/members').then((b) => b.members), 5000);
  const status = usePolled(() => call<ClusterStatus>('/api/v1/cluster/status'), 5000);
  useEffect(
    () =>
      liveEvents.subscribe((event) => {
        if (event.type === 'member' || event.type === 'agent.state') {
          members.refresh();
          status.refresh();
        }
      }),
    [],
  );
  const list = members.value ?? [];
  const s = status.value;
  return html`
    <section>
      <h2>Cluster</h2>
      ${members.error && html`<p class="error">${members.error}</p>`}
      ${s &&
      html`<p class="status" data-testid="cluster-status">
        <span class=${`badge ${s.health}`}>${s.health}</span> <span class="badge">${s.mode}</span>
        ${s.alive}/${s.expected} alive, quorum ${s.quorum}${s.agents !== undefined ? html`, ${s.agents} agents` : ''}
      </p>`}
      <div class="map-row">
        <svg class="map" viewBox=${`0 0 ${SIZE} ${SIZE}`} width=${SIZE} height=${SIZE} role="img" aria-label="cluster map">
          <circle cx=${SIZE / 2} cy=${SIZE / 2} r=${SIZE / 2 - 70} class="ring" />
          ${list.map((m, i) => {
            const angle = (2 * Math.PI * i) / Math.max(1, list.length) - Math.PI / 2;
            const r = list.length === 1 ? 0 : SIZE / 2 - 70;
            const x = SIZE / 2 + r * Math.cos(angle);
            const y = SIZE / 2 + r * Math.sin(angle);
            return html`<g class=${`member ${m.state}`} data-member=${m.id}>
              <circle cx=${x} cy=${y} r="34" />
              <text x=${x} y=${y - 4} class="count">${m.agents}</text>
              <text x=${x} y=${y + 12} class="small">agents</text>
              <text x=${x} y=${y + 52} class="label">${m.id}</text>
            </g>`;
          })}
        </svg>
        <table class="grid">
          <thead><tr><th>Node</th><th>Address</th><th>State</th><th>Agents</th><th>Version</th></tr></thead>
          <tbody>
            ${list.map(
              (m) => html`<tr data-testid="member-row">
                <td><a href=${href('agents', undefined, { node: m.id })}>${m.id}</a></td>
                <td>${m.address}</td>
                <td><span class=${`badge ${m.state}`}>${m.state}</span></td>
                <td>${m.agents}</td>
                <td>${m.version}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>
  `;
}
