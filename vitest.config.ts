import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The soak measures latency under attack: it runs alone afterwards (vitest.soak.config.ts), not beside
    // the timing-sensitive cluster tests it would slow down and be slowed by.
    // Scale tests (*.scale.test.ts, vitest.scale.config.ts) run in a pass of their own, as CI does.
    exclude: ['test/hardening/soak.test.ts', 'test/**/*.scale.test.ts', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests that start real processes and bind ports run one file at a time per worker;
    // two cores, so two workers.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    globalSetup: ['test/global-setup.ts'],
  },
});
