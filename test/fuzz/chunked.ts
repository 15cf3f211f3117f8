// Runs a fast-check property in chunks of at most 10,000 inputs with a yield to the event loop between them:
// one synchronous fc.assert of 100,000 inputs held a vitest worker's event loop for ~60 s, and vitest's RPC
// to the worker timed out ("Timeout calling onTaskUpdate"). Chunk i runs with seed + i, so a run is still
// fully determined by the seed, and a failure message names the chunk's seed to replay.
import fc from 'fast-check';

const CHUNK = 10_000;

export async function assertInChunks<Ts extends [unknown, ...unknown[]]>(
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  parameters: { numRuns: number; seed: number; endOnFailure: true },
): Promise<void> {
  for (let done = 0, chunk = 0; done < parameters.numRuns; chunk++) {
    const numRuns = Math.min(CHUNK, parameters.numRuns - done);
    await fc.assert(property as fc.IAsyncProperty<Ts>, { ...parameters, numRuns, seed: parameters.seed + chunk });
    done += numRuns;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
