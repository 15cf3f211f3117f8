// Deploy by file upload: the .wasm goes as a multipart file part with the spec as JSON (POST
// /api/v1/agents), or as an upgrade in place (PUT /api/v1/agents/{name}) when the name exists and the box
// is ticked.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import { href } from '../route.ts';
import type { Agent } from '../types.ts';

export function DeployView() {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [capabilities, setCapabilities] = useState('');
  const [upgrade, setUpgrade] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string; agent?: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const pick = (event: Event) => {
    const chosen = (event.target as HTMLInputElement).files?.[0] ?? null;
    setFile(chosen);
    if (chosen && name === '') setName(chosen.name.replace(/\.wasm$/, '').replace(/[^A-Za-z0-9_.-]/g, '-'));
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setResult(null);
    const spec: Record<string, unknown> = { name };
    const caps = capabilities.split(',').map((c) => c.trim()).filter(Boolean);
    if (caps.length) spec.capabilities = caps;
    const form = new FormData();
    form.append('spec', JSON.stringify(spec));
    form.append('module', file, file.name);
    try {
      const agent = upgrade
        ? await call<Agent>(`/api/v1/agents/${encodeURIComponent(name)}`, { method: 'PUT', body: form })
        : await call<Agent>('/api/v1/agents', { method: 'POST', body: form });
      setResult({ ok: true, text: `${agent.name} version ${agent.version} is ${agent.state} on node ${agent.node}`, agent: agent.name });
    } catch (e) {
      const text = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
      setResult({ ok: false, text: e instanceof ApiError && e.code === 'CONFLICT' && !upgrade ? `${text} (tick "upgrade" to replace it)` : text });
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section>
      <h2>Deploy an agent</h2>
      <form class="form" onSubmit=${submit}>
        <label for="deploy-file">WebAssembly module</label>
        <input id="deploy-file" type="file" accept=".wasm,application/wasm" onChange=${pick} />
        <label for="deploy-name">Name</label>
        <input id="deploy-name" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} placeholder="echo" />
        <label for="deploy-caps">Capabilities (comma-separated)</label>
        <input id="deploy-caps" value=${capabilities} onInput=${(e: Event) => setCapabilities((e.target as HTMLInputElement).value)} placeholder="echo, translate" />
        <label class="check"><input type="checkbox" checked=${upgrade} onChange=${(e: Event) => setUpgrade((e.target as HTMLInputElement).checked)} /> upgrade in place if the name exists</label>
        <button type="submit" disabled=${busy || !file || name === ''}>${upgrade ? 'Upgrade' : 'Deploy'}</button>
      </form>
      ${result &&
      html`<p class=${result.ok ? 'ok' : 'error'} role="status" data-testid="deploy-result">
        ${result.text} ${result.agent && html`<a href=${href('agents', result.agent)}>open</a>`}
      </p>`}
    </section>
  `;
}
