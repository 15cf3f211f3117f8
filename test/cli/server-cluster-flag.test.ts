// `caxton server start --cluster [NAME]`: the seed's `caxton server start --cluster` works as written.
import { describe, expect, it } from 'vitest';
import { caxton } from './run.ts';

async function flagsOf(args: string[]): Promise<Record<string, unknown> | undefined> {
  let received: Record<string, unknown> | undefined;
  const run = await caxton(['server', 'start', ...args], {}, { loadRunServer: async () => async (flags) => void (received = flags) });
  expect(run.code).toBe(0);
  return received;
}

describe('server start --cluster', () => {
  it('takes a name, or alone means the cluster "caxton", beside other flags', async () => {
    expect(await flagsOf(['--cluster', 'prod'])).toEqual({ cluster: 'prod' });
    expect(await flagsOf(['--cluster'])).toEqual({ cluster: 'caxton' });
    expect(await flagsOf(['--cluster', '--join', 'seed.lan'])).toEqual({ cluster: 'caxton', join: 'seed.lan' });
  });
});
