// Entry point of the web console bundle (scripts/build-console.ts): renders the app into #app.
import { render } from 'preact';
import { html } from 'htm/preact';
import { App } from './app.ts';

render(html`<${App} />`, document.getElementById('app')!);
