import { defineConfig } from 'vitest/config';

// The soak test (test/hardening/soak.test.ts) on its own, after the rest of `npm test`: its honest-latency
// bound compares the node quiet and under attack, which only means something when nothing else runs.
export default defineConfig({
  test: {
    include: ['test/hardening/soak.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 1, minForks: 1 } },
    globalSetup: ['test/global-setup.ts'],
  },
});
