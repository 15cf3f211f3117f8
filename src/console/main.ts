// Entry point of the web console bundle (scripts/build-console.ts): renders the app into #app.
import { render } from 'preact';
import { html } from 'htm/preact';
import { App } from './app.ts';

const root = document.getElementById('app')!;
// The "Loading…" placeholder is static HTML, which Preact's render leaves in place: clear it first.
root.textContent = '';
render(html`<${App} />`, root);
