// 1,000 simulated nodes: ~45 s of CPU (~65 s wall on a shared 2-core machine), so it runs in the scale pass
// (`npm run test:scale`, which CI runs), not in `npm test`. The join storm alone is ~16 M alive transmissions,
// as memberlist sends them (1,000 nodes x 1,000 alives x 16 retransmits); the broadcast queue's early exit
// keeps each one ~1 µs.
import { describe, it } from 'vitest';
import { convergeAndCrash } from './converge-and-crash.ts';

describe('simulated membership, 1,000 nodes', () => {
  it('1,000 nodes: joins converge, a crash is detected everywhere', async () => {
    await convergeAndCrash(1000, 12);
  }, 240_000);
});
