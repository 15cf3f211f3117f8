// Tables are memory outside the agent's memory limit: their entries are bounded per module (declared and grown).
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import { RUNTIME_DEFAULTS } from '../../src/agents/runtime-defaults.ts';
import { agentModule, message, setup } from './fixtures.ts';

const LIMIT = RUNTIME_DEFAULTS.maxTableElements;

describe('table limits', () => {
  it('refuses at deploy tables whose minimums pass the bound, naming both numbers', async () => {
    // Ten tables of 10,000,000 entries: 10 s and 2.9 GB for one instance, and the second killed the process.
    const bytes = await agentModule(() => ({ extra: `(table ${LIMIT} funcref) (table 1 externref)` }));
    const err = await setup().deploy('a', bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CaxtonError);
    expect(err).toMatchObject({ code: 'INVALID_MODULE', details: { table_elements: LIMIT + 1, limit: LIMIT } });
  });

  it('table.grow cannot pass the bound, whatever the tables declare', async () => {
    const env = setup();
    const bytes = await agentModule((s) => ({
      extra: '(table $t 1 funcref) (table $u 10 20 externref) (table $v 5 externref)',
      handle: `
        (call $report ${s('huge')} (table.grow $t (ref.null func) (i32.const 9999990)))
        (call $report ${s('own_max')} (table.grow $u (ref.null extern) (i32.const 11)))
        (call $report ${s('to_bound')} (table.grow $t (ref.null func) (i32.const ${LIMIT - 16 - 10})))
        (call $report ${s('past')} (table.grow $v (ref.null extern) (i32.const 1)))
        (call $report ${s('size')} (table.size $t))
        (i32.const 0)`,
    }));
    await env.deploy('a', bytes);
    env.runtime.deliver(message('a', { performative: 'inform' }), 'a');
    await env.runtime.whenIdle();
    expect(env.logText('a')).toEqual(['huge=-1', 'own_max=-1', 'to_bound=1', 'past=-1', `size=${LIMIT - 25}`]);
  });
});
