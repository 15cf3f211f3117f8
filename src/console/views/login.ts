// Log in with an API key: checked against the node (GET /api/v1/cluster/status needs viewer) before it is
// kept in sessionStorage.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, call, session } from '../api.ts';

export function Login({ node, onLogin }: { node?: string; onLogin: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      await call('/api/v1/cluster/status', { key: key.trim() });
      session.key = key.trim();
      onLogin();
    } catch (e) {
      setError(e instanceof ApiError ? `${e.code}: ${e.message}` : 'cannot reach the node');
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="login" onSubmit=${submit}>
      <h1>Caxton</h1>
      <p class="muted">${node ? `node ${node}` : ''}</p>
      <label for="api-key">API key</label>
      <input id="api-key" name="api-key" type="password" autocomplete="off" placeholder="cxk_…" value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} autofocus />
      <p class="hint">A local node's admin key is in <code>.caxton/admin.key</code>; make others with <code>caxton security api-keys create</code>. The key stays in this tab only. A node started with <code>--insecure-no-auth</code> takes any key.</p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" disabled=${busy || key.trim() === ''}>Log in</button>
    </form>
  `;
}
