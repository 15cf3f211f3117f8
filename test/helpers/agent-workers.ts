// Agent worker threads for nodes the tests start in this process (loadConfig with an explicit env): CI runs
// the agent-involving tests again with CAXTON_AGENTS_WORKERS=0 and =4 (vitest.workers.config.ts); unset, the
// node takes the default (`auto`). Nodes started as child processes inherit the variable with the rest of
// the environment.
export function agentWorkersEnv(): Record<string, string> {
  const workers = process.env.CAXTON_AGENTS_WORKERS;
  return workers === undefined ? {} : { CAXTON_AGENTS_WORKERS: workers };
}
