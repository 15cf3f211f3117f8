// The console's shell: the login form until a key works, then the navigation and the page the URL names.
// The event stream is opened once here and shared by the pages.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { call, session, whenUnauthorized } from './api.ts';
import { liveEvents } from './live-events.ts';
import { href, useRoute } from './route.ts';
import { AgentDetail } from './views/agent-detail.ts';
import { AgentsView } from './views/agents.ts';
import { ClusterMap } from './views/cluster-map.ts';
import { Composer } from './views/composer.ts';
import { DeployView } from './views/deploy.ts';
import { Login } from './views/login.ts';
import { Sniffer } from './views/sniffer.ts';

const PAGES: [string, string][] = [
  ['cluster', 'Cluster'],
  ['agents', 'Agents'],
  ['deploy', 'Deploy'],
  ['compose', 'Send'],
  ['sniffer', 'Sniffer'],
];

export function App() {
  const [loggedIn, setLoggedIn] = useState(session.key !== null);
  const [health, setHealth] = useState<{ node: string; version: string } | null>(null);
  const [connected, setConnected] = useState(false);
  const route = useRoute();

  useEffect(() => {
    whenUnauthorized(() => {
      session.key = null;
      liveEvents.stop();
      setLoggedIn(false);
    });
    call<{ node: string; version: string }>('/health').then(setHealth, () => setHealth(null));
  }, []);
  useEffect(() => {
    if (!loggedIn) return;
    liveEvents.start();
    const off = liveEvents.onStatus(setConnected);
    return () => off();
  }, [loggedIn]);

  if (!loggedIn) return html`<${Login} node=${health?.node} onLogin=${() => setLoggedIn(true)} />`;

  const logout = () => {
    session.key = null;
    liveEvents.stop();
    setLoggedIn(false);
  };
  return html`
    <header class="top">
      <span class="brand">Caxton</span>
      <nav>
        ${PAGES.map(([page, label]) => html`<a href=${href(page)} class=${route.page === page ? 'active' : ''}>${label}</a>`)}
      </nav>
      <span class="node">node <b>${health?.node ?? '…'}</b> ${health?.version ?? ''}</span>
      <span class=${`live ${connected ? 'on' : 'off'}`} title="the node's event stream">${connected ? 'live' : 'offline'}</span>
      <button class="link" onClick=${logout}>Log out</button>
    </header>
    <main>${page(route.page, route.arg, route.query)}</main>
  `;
}

function page(name: string, arg: string | undefined, query: URLSearchParams) {
  switch (name) {
    case 'agents':
      return arg ? html`<${AgentDetail} name=${arg} key=${arg} />` : html`<${AgentsView} node=${query.get('node') ?? undefined} />`;
    case 'deploy':
      return html`<${DeployView} />`;
    case 'compose':
      return html`<${Composer} to=${query.get('to') ?? ''} />`;
    case 'sniffer':
      // Keyed by what it watches: a new choice starts a new diagram with its own form state.
      return html`<${Sniffer} key=${query.toString()} conversation=${query.get('conversation') ?? ''} agents=${query.get('agents') ?? ''} />`;
    default:
      return html`<${ClusterMap} />`;
  }
}
