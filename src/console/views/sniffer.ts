// The conversation sniffer (after JADE's Sniffer): pick agents or a conversation, and watch the messages
// between them as a live sequence diagram, one lifeline per participant and one arrow per message and
// receiver, labelled with its performative. Marked: a message refused for breaking its protocol (a red
// cross on a dashed arrow), a participant that missed its reply_by (a clock on its lifeline), a message not
// delivered (dashed, with the outcome). Messages come from the node's event stream, which shows up to
// events.messages_per_second of them (all of them on a quiet node).
import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { call } from '../api.ts';
import { liveEvents } from '../live-events.ts';
import { href } from '../route.ts';
import { laneOf, SequenceLog, type SequenceRow } from '../sequence-log.ts';
import type { Agent, Conversation } from '../types.ts';
import { usePolled } from '../use-poll.ts';

const LANE_WIDTH = 170;
const HEAD = 56;
const ROW = 34;
const MARGIN = 20;

export function Sniffer({ conversation, agents: agentList }: { conversation: string; agents: string }) {
  const picked = agentList ? agentList.split(',').filter(Boolean) : [];
  const known = usePolled(() => call<{ agents: Agent[] }>('/api/v1/agents').then((b) => b.agents), 10_000);
  const [conversationInput, setConversationInput] = useState(conversation);
  const log = useMemo(() => new SequenceLog({ conversation: conversation || undefined, agents: picked }), [conversation, agentList]);
  const [, setVersion] = useState(0);
  const [note, setNote] = useState('');

  useEffect(() => {
    let frame = 0;
    const redraw = () => {
      // One redraw per animation frame however many events arrive.
      if (frame === 0) frame = requestAnimationFrame(() => ((frame = 0), setVersion((v) => v + 1)));
    };
    const off = liveEvents.subscribe((event) => log.add(event) && redraw());
    setNote('');
    if (conversation) {
      call<Conversation>(`/api/v1/conversations/${encodeURIComponent(conversation)}`).then(
        (c) => {
          log.addHistory(c.messages);
          setNote(`${c.protocol ?? 'no protocol'}, ${c.state}`);
          redraw();
        },
        () => setNote('nothing recorded yet on this node: waiting for its messages'),
      );
    }
    return () => {
      off();
      cancelAnimationFrame(frame);
    };
  }, [log]);

  const toggle = (name: string) => {
    const next = picked.includes(name) ? picked.filter((n) => n !== name) : [...picked, name];
    location.hash = href('sniffer', undefined, next.length ? { agents: next.join(',') } : undefined);
  };
  const watchConversation = (event: Event) => {
    event.preventDefault();
    location.hash = href('sniffer', undefined, conversationInput.trim() ? { conversation: conversationInput.trim() } : undefined);
  };

  return html`
    <section>
      <h2>Sniffer</h2>
      <div class="sniffer-controls">
        <div>
          <span class="muted">Agents: </span>
          ${(known.value ?? []).map(
            (a) => html`<button type="button" class=${`chip ${picked.includes(a.name) ? 'on' : ''}`} aria-pressed=${picked.includes(a.name)} onClick=${() => toggle(a.name)}>${a.name}</button>`,
          )}
          ${!conversation && picked.length === 0 && html`<span class="muted"> (none picked: every message)</span>`}
        </div>
        <form onSubmit=${watchConversation} class="inline">
          <label for="sniff-conversation">Conversation</label>
          <input id="sniff-conversation" value=${conversationInput} onInput=${(e: Event) => setConversationInput((e.target as HTMLInputElement).value)} placeholder="conversation id" />
          <button type="submit">Watch</button>
          ${(conversation || picked.length > 0) && html`<a class="button small" href=${href('sniffer')}>Everything</a>`}
        </form>
      </div>
      ${!conversation &&
      liveEvents.recent.length > 0 &&
      html`<div class="recent">
        <span class="muted">Recent conversations: </span>
        ${liveEvents.recent.map(
          (c) => html`<a class="chip" href=${href('sniffer', undefined, { conversation: c.id })} title=${c.id}>${c.protocol ?? 'plain'} · ${c.id.slice(0, 8)} · ${c.last}</a>`,
        )}
      </div>`}
      ${conversation && html`<p class="muted">conversation <code>${conversation}</code> ${note}</p>`}
      <${SequenceDiagram} rows=${log.rows} lanes=${log.lanes} />
      <p class="legend muted">
        <span class="perf request">request</span> <span class="perf inform">inform</span> <span class="perf failure">failure / refuse</span>
        <span class="mark-violation">✕ protocol violation (not delivered)</span> <span class="mark-timeout"><svg width="14" height="14" viewBox="-7 -7 14 14" class="clock-icon"><circle r="6" /><path d="M0,-4 V0 H3" /></svg> timeout</span>
        · up to events.messages_per_second messages are shown each second
      </p>
    </section>
  `;
}

function SequenceDiagram({ rows, lanes }: { rows: readonly SequenceRow[]; lanes: readonly string[] }) {
  if (rows.length === 0) return html`<p class="empty muted" data-testid="sniffer-empty">Waiting for messages…</p>`;
  const width = MARGIN * 2 + Math.max(1, lanes.length) * LANE_WIDTH;
  const height = HEAD + rows.length * ROW + MARGIN;
  const x = (name: string) => MARGIN + laneOf(lanes, name) * LANE_WIDTH + LANE_WIDTH / 2;
  return html`
    <div class="diagram-scroll">
      <svg class="sequence" data-testid="sequence" width=${width} height=${height} viewBox=${`0 0 ${width} ${height}`} role="img" aria-label="sequence diagram">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
          </marker>
        </defs>
        ${lanes.map(
          (lane) => html`<g class="lane">
            <rect x=${x(lane) - LANE_WIDTH / 2 + 8} y="8" width=${LANE_WIDTH - 16} height="30" rx="4" class=${lane.startsWith('client:') ? 'head client' : 'head'} />
            <text x=${x(lane)} y="28" class="lane-name">${lane.length > 22 ? `${lane.slice(0, 21)}…` : lane}</text>
            <line x1=${x(lane)} y1="38" x2=${x(lane)} y2=${height - 6} class="lifeline" />
          </g>`,
        )}
        ${rows.map((row, i) => drawRow(row, HEAD + i * ROW + ROW / 2, x))}
      </svg>
    </div>
  `;
}

function drawRow(row: SequenceRow, y: number, x: (name: string) => number) {
  if (row.kind === 'message') {
    const x1 = x(row.from);
    const x2 = x(row.to);
    const failed = row.outcome !== 'queued';
    const cls = `msg perf-${row.performative}${failed ? ' undelivered' : ''}`;
    const label = failed ? `${row.performative} ✕ ${row.outcome}` : row.performative;
    if (x1 === x2) {
      return html`<g class=${cls} data-performative=${row.performative}>
        <path d=${`M${x1},${y - 8} h30 v16 h-28`} fill="none" marker-end="url(#arrow)" />
        <text x=${x1 + 36} y=${y + 4} class="msg-label left">${label}</text>
      </g>`;
    }
    return html`<g class=${cls} data-performative=${row.performative}>
      <line x1=${x1} y1=${y} x2=${x2} y2=${y} marker-end="url(#arrow)" />
      <text x=${(x1 + x2) / 2} y=${y - 5} class="msg-label">${label}</text>
    </g>`;
  }
  if (row.kind === 'violation') {
    const x1 = row.from ? x(row.from) : x(row.to ?? '');
    const x2 = row.to ? x(row.to) : x1;
    const mid = (x1 + x2) / 2;
    return html`<g class="violation" data-mark="violation">
      <line x1=${x1} y1=${y} x2=${x2} y2=${y} />
      <text x=${mid} y=${y + 5} class="cross">✕</text>
      <text x=${mid} y=${y - 6} class="msg-label">${row.performative ?? 'message'} refused: ${row.code}</text>
    </g>`;
  }
  if (row.kind === 'timeout') {
    const px = x(row.participant);
    return html`<g class="timeout" data-mark="timeout">
      <circle cx=${px} cy=${y} r="9" />
      <path d=${`M${px},${y - 6} V${y} H${px + 5}`} class="hands" />
      <text x=${px + 15} y=${y + 4} class="msg-label left">${row.participant}: no answer by reply_by (timeout)</text>
    </g>`;
  }
  return html`<g class="note"><text x=${MARGIN} y=${y + 4} class="msg-label left">— ${row.text}</text></g>`;
}
