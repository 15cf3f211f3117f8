// The tests that involve agents, run again with agents on worker threads: CI runs this config twice,
//   CAXTON_AGENTS_WORKERS=1 npx vitest run --config vitest.workers.config.ts
//   CAXTON_AGENTS_WORKERS=4 npx vitest run --config vitest.workers.config.ts
// Nodes the tests start as processes inherit the variable; nodes started in the test process read it through
// test/helpers/agent-workers.ts. Unset, it runs with one worker. Tests whose nodes deploy no agent are left
// out: workers start on demand, so they would run exactly as in the main suite.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

process.env.CAXTON_AGENTS_WORKERS ??= '1';

export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/agents/workers/**/*.test.ts',
      'test/e2e/**/*.test.ts',
      'test/conversations/**/*.test.ts',
      'test/sdk/**/*.test.ts',
      'test/cluster/routing/**/*.test.ts',
      'test/cluster/registry/registry-processes.test.ts',
      'test/cluster/registry/registry-ten-nodes.test.ts',
      'test/hardening/agent-ceilings.test.ts',
      'test/fuzz/rest.test.ts',
    ],
    exclude: base.test?.exclude ?? [],
    env: { CAXTON_AGENTS_WORKERS: process.env.CAXTON_AGENTS_WORKERS },
  },
});
