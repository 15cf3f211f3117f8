// The message composer: a FIPA-ACL message to an agent (or capability:x), sent as this key's client
// (POST /api/v1/messages), optionally waiting for the answers (wait_ms), with a link to watch its
// conversation in the sniffer.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import { href } from '../route.ts';
import type { Agent, SendResult } from '../types.ts';
import { usePolled } from '../use-poll.ts';

const PERFORMATIVES = ['request', 'query-ref', 'query-if', 'inform', 'cfp', 'subscribe', 'propose', 'agree', 'refuse', 'failure', 'cancel', 'not-understood'];
const PROTOCOLS = ['', 'fipa-request', 'fipa-query', 'fipa-contract-net', 'fipa-subscribe'];

export function Composer({ to }: { to: string }) {
  const agents = usePolled(() => call<{ agents: Agent[] }>('/api/v1/agents').then((b) => b.agents), 10_000);
  const [receiver, setReceiver] = useState(to);
  const [performative, setPerformative] = useState('request');
  const [protocol, setProtocol] = useState('');
  const [content, setContent] = useState('{"text": "hello"}');
  const [waitMs, setWaitMs] = useState('3000');
  const [result, setResult] = useState<SendResult | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const send = async (event: Event) => {
    event.preventDefault();
    setError('');
    setResult(null);
    let parsed: unknown;
    try {
      parsed = content.trim() === '' ? undefined : JSON.parse(content);
    } catch {
      setError('content: not JSON');
      return;
    }
    const receivers = receiver.split(',').map((r) => r.trim()).filter(Boolean);
    const message: Record<string, unknown> = { receiver: receivers.length === 1 ? receivers[0] : receivers, performative };
    if (parsed !== undefined) message.content = parsed;
    if (protocol) message.protocol = protocol;
    const wait = Number(waitMs);
    setBusy(true);
    try {
      setResult(await call<SendResult>(`/api/v1/messages${wait > 0 ? `?wait_ms=${wait}` : ''}`, { method: 'POST', json: message }));
    } catch (e) {
      setError(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e));
    } finally {
      setBusy(false);
    }
  };
  const input = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return html`
    <section>
      <h2>Send a message</h2>
      <form class="form" onSubmit=${send}>
        <label for="msg-to">To (agents separated by commas, or capability:NAME)</label>
        <input id="msg-to" list="agent-names" value=${receiver} onInput=${input(setReceiver)} placeholder="echo" />
        <datalist id="agent-names">${(agents.value ?? []).map((a) => html`<option value=${a.name} />`)}</datalist>
        <label for="msg-performative">Performative</label>
        <select id="msg-performative" value=${performative} onChange=${input(setPerformative)}>
          ${PERFORMATIVES.map((p) => html`<option value=${p}>${p}</option>`)}
        </select>
        <label for="msg-protocol">Protocol</label>
        <select id="msg-protocol" value=${protocol} onChange=${input(setProtocol)}>
          ${PROTOCOLS.map((p) => html`<option value=${p}>${p || '(none)'}</option>`)}
        </select>
        <label for="msg-content">Content (JSON)</label>
        <textarea id="msg-content" rows="4" value=${content} onInput=${input(setContent)}></textarea>
        <label for="msg-wait">Wait for answers (ms, 0 = do not wait)</label>
        <input id="msg-wait" type="number" min="0" value=${waitMs} onInput=${input(setWaitMs)} />
        <button type="submit" disabled=${busy || receiver.trim() === ''}>Send</button>
      </form>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${result &&
      html`<div class="result" data-testid="send-result">
        <p>sent <code>${result.message_id}</code> in conversation${' '}<a href=${href('sniffer', undefined, { conversation: result.conversation_id })}><code>${result.conversation_id}</code></a></p>
        ${result.replies &&
        (result.replies.length === 0
          ? html`<p class="muted">no answer within the wait</p>`
          : result.replies.map(
              (r) => html`<div class="reply"><span class=${`perf ${r.performative}`}>${r.performative}</span> from <b>${r.sender}</b>
                <pre>${JSON.stringify(r.content, null, 2)}</pre></div>`,
            ))}
      </div>`}
    </section>
  `;
}
