// 100 nodes in the default suite; 1,000 in the scale pass (thousand-nodes.scale.test.ts, `npm run test:scale`,
// which CI runs), as it alone costs ~45 s of CPU.
import { describe, it } from 'vitest';
import { convergeAndCrash } from './converge-and-crash.ts';

describe('simulated membership, large clusters', () => {
  it('100 nodes: joins converge, a crash is detected everywhere', async () => {
    await convergeAndCrash(100, 11);
  }, 60_000);
});
