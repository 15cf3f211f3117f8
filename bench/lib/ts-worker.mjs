// @ts-check
// Starts a TypeScript file as a worker thread: a worker does not inherit the main thread's loader hooks, so
// tsx is registered here first (as src/agents/workers/agent-worker-entry.mjs does). workerData.entry names it.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
