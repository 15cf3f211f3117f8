// An agent adopted from a peer (agent.adopt of a drain, a take-over of failover) is checked as a deploy here
// checks it: a joined node had agents named `ams`, `Bad Name/../x` and `client:bob`, with non-string
// capabilities, fuel 10^15 and a mailbox of 10^9, started and stored as sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import type { AgentSpec } from '../../src/node/services.ts';
import { exampleModule } from '../helpers/modules.ts';
import { startTestNode, type TestNode } from '../conversations/node-harness.ts';

let t: TestNode;
beforeAll(async () => {
  t = await startTestNode();
}, 60_000);
afterAll(() => t?.stop());

const limits = { memory_pages: 16, fuel: 1_000_000, mailbox: 100 };
const spec = (over: Partial<AgentSpec> & Record<string, unknown>) => ({ name: 'adopted', capabilities: [], tools: {}, limits, ...over }) as AgentSpec;

async function refusal(input: AgentSpec): Promise<CaxtonError> {
  const outcome = await t.node.agents.adopt(input, exampleModule('echo'), 1, false).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome).toBeInstanceOf(CaxtonError);
  return outcome as CaxtonError;
}

describe('adopting an agent from a peer', () => {
  it.each([
    ['a system agent name', spec({ name: 'ams' }), 'name'],
    ['a name no deploy accepts', spec({ name: 'Bad Name/../x' }), 'name'],
    ["a client's address", spec({ name: 'client:bob' }), 'name'],
    ['capabilities that are not names', spec({ capabilities: [5 as unknown as string] }), 'capabilities'],
    ["fuel past this node's agents.max_fuel", spec({ limits: { ...limits, fuel: 1e15 } }), 'limits.fuel'],
    ['a mailbox past 1,000,000', spec({ limits: { ...limits, mailbox: 1e9 } }), 'limits.mailbox'],
  ])('refuses %s, naming the field, and runs and stores nothing', async (_what, input, field) => {
    const error = await refusal(input);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.details).toMatchObject({ field });
    expect(t.node.runtime.list().map((a) => a.name)).toEqual([]);
    expect(t.node.state.agents.list()).toEqual([]);
  });

  it('adopts a spec a deploy here would accept', async () => {
    const info = await t.node.agents.adopt(spec({ name: 'adopted' }), exampleModule('echo'), 3, false);
    expect(info).toMatchObject({ name: 'adopted', version: 3, state: 'running' });
  });
});
