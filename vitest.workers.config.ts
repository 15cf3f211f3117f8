// The tests that involve agents, run again at other agents.workers settings than the main suite's default
// (`auto`: the cores minus one, 1 worker on a 2-core machine). CI runs this config twice,
//   CAXTON_AGENTS_WORKERS=0 npx vitest run --config vitest.workers.config.ts   (agents on the main thread)
//   CAXTON_AGENTS_WORKERS=4 npx vitest run --config vitest.workers.config.ts   (more workers than cores)
// Nodes the tests start as processes inherit the variable; nodes started in the test process read it through
// test/helpers/agent-workers.ts. Unset, it runs with agents on the main thread, the setting the main suite no
// longer covers. Tests whose nodes deploy no agent are left out: they would run exactly as in the main suite.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

process.env.CAXTON_AGENTS_WORKERS ??= '0';

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
      'test/hardening/agent-ceilings.test.ts',
      'test/fuzz/rest.test.ts',
      'test/observability/tracing.test.ts',
      'test/observability/node-metrics.test.ts',
    ],
    // The scale pass's e2e files (a rolling upgrade) are too long for the main suite, not for this pass: they
    // involve agents and run here too.
    exclude: ['test/hardening/soak.test.ts', 'node_modules/**'],
    env: { CAXTON_AGENTS_WORKERS: process.env.CAXTON_AGENTS_WORKERS },
  },
});
