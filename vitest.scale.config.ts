// The scale pass: tests whose size makes them too long for `npm test` (files named *.scale.test.ts).
// `npm run test:scale` runs them; CI runs them after the suite.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export default defineConfig({
  test: {
    ...base.test,
    include: ['test/**/*.scale.test.ts'],
    exclude: ['node_modules/**'],
  },
});
