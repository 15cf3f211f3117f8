// @ts-check
// The entry of the history thread. The sources are TypeScript and a worker does not inherit the main thread's
// loader hooks, so tsx's loader is registered in this thread first, as bin/caxton.mjs does.
import { register } from 'tsx/esm/api';

register();
await import('./conversation-log-worker.ts');
