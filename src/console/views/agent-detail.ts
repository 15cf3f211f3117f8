// One agent: its spec and accounting, and the tail of its log (the last lines, then new ones as they come,
// read from GET /api/v1/agents/{name}/logs?follow=true). Links to send it a message or watch it talk.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { call, followEvents } from '../api.ts';
import { href } from '../route.ts';
import type { Agent, LogLine } from '../types.ts';
import { usePolled } from '../use-poll.ts';
import { number } from './agents.ts';

/** Log lines kept on screen. */
const TAIL_LINES = 200;

export function AgentDetail({ name }: { name: string }) {
  const agent = usePolled(() => call<Agent>(`/api/v1/agents/${encodeURIComponent(name)}`), 3000);
  const [lines, setLines] = useState<LogLine[]>([]);
  const [logNote, setLogNote] = useState('');
  useEffect(() => {
    const abort = new AbortController();
    setLines([]);
    void followEvents(
      `/api/v1/agents/${encodeURIComponent(name)}/logs?follow=true&limit=${TAIL_LINES}`,
      (event) => {
        if (event.event !== 'log') return;
        const line = event.data as LogLine;
        setLines((old) => (old.some((l) => l.seq === line.seq) ? old : [...old, line].slice(-TAIL_LINES)));
        // A new line means the agent ran: its accounting changed too.
        agent.refresh();
      },
      abort.signal,
      (connected) => setLogNote(connected ? '' : 'log stream disconnected: retrying'),
    );
    return () => abort.abort();
  }, [name]);
  const a = agent.value;
  return html`
    <section>
      <h2>Agent ${name}</h2>
      ${agent.error && html`<p class="error">${agent.error}</p>`}
      ${a &&
      html`
        <div class="actions">
          <a class="button small" href=${href('compose', undefined, { to: name })}>Send a message</a>
          <a class="button small" href=${href('sniffer', undefined, { agents: name })}>Watch in the sniffer</a>
        </div>
        <dl class="facts">
          <dt>state</dt><dd><span class=${`badge ${a.state}`}>${a.state}</span></dd>
          <dt>node</dt><dd>${a.node}${a.node_state && a.node_state !== 'alive' ? ` (${a.node_state})` : ''}</dd>
          <dt>version</dt><dd>${a.version}</dd>
          <dt>capabilities</dt><dd>${a.capabilities.join(', ') || '–'}</dd>
          <dt>module sha256</dt><dd><code>${a.module_sha256}</code></dd>
          ${a.limits && html`<dt>limits</dt><dd>${number(a.limits.memory_pages)} pages, ${number(a.limits.fuel)} fuel, mailbox ${a.limits.mailbox}</dd>`}
          ${a.stats &&
          html`<dt>accounting</dt>
            <dd>${`${number(a.stats.invocations)} invocations, ${number(a.stats.messages_in)} in / ${number(a.stats.messages_out)} out, ` +
              `${number(a.stats.fuel_used)} fuel, ${number(a.stats.traps)} traps, mailbox ${a.stats.mailbox_depth}, memory ${a.stats.memory_pages} pages`}</dd>
            ${a.stats.last_error && html`<dt>last error</dt><dd class="error">${a.stats.last_error}</dd>`}`}
          ${a.updated_at && html`<dt>updated</dt><dd>${a.updated_at}</dd>`}
        </dl>
      `}
      <h3>Log</h3>
      ${logNote && html`<p class="muted">${logNote}</p>`}
      <pre class="log" data-testid="agent-log">${lines.length === 0 ? 'no log lines yet' : lines.map((l) => `${l.ts.slice(11, 23)} ${l.level.padEnd(5)} ${l.message}\n`)}</pre>
    </section>
  `;
}
