// Issue 10, finding 4 and 8: what a deployer may ask of a node is capped by the node (agents.max_fuel,
// agents.max_memory_pages), and the names of system agents cannot be taken.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonError } from '../../src/errors.ts';
import { normalizeAgentSpec } from '../../src/node/agent-spec.ts';

const config = loadConfig({ env: {} });
const defaults = { memory_pages: config.agents.memory_pages, fuel: config.agents.fuel, mailbox: config.agents.mailbox };
const ceilings = {
  max_fuel: config.agents.max_fuel,
  max_memory_pages: config.agents.max_memory_pages,
  reservedNames: (name: string) => name === 'df' || name === 'ams',
};

function refusal(fn: () => unknown): CaxtonError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CaxtonError);
    return error as CaxtonError;
  }
  throw new Error('expected a refusal');
}

describe('agent ceilings', () => {
  it('refuses fuel above agents.max_fuel (2^53-1 was accepted), naming the field and the setting', () => {
    const error = refusal(() => normalizeAgentSpec({ name: 'spin', limits: { fuel: Number.MAX_SAFE_INTEGER } }, defaults, ceilings));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.details).toMatchObject({ field: 'limits.fuel' });
    expect(error.message).toMatch(/^limits\.fuel: expected an integer from 1 to 1000000000 \(this node's agents\.max_fuel\)/);
    expect(normalizeAgentSpec({ name: 'spin', limits: { fuel: config.agents.max_fuel } }, defaults, ceilings).limits.fuel).toBe(1e9);
  });

  it('refuses memory_pages above agents.max_memory_pages (65,536 was accepted)', () => {
    const error = refusal(() => normalizeAgentSpec({ name: 'hog', limits: { memory_pages: 65_536 } }, defaults, ceilings));
    expect(error.details).toMatchObject({ field: 'limits.memory_pages' });
    expect(error.message).toMatch(/agents\.max_memory_pages/);
  });

  it('refuses the names of system agents (df, ams): they would never get a message', () => {
    for (const name of ['df', 'ams']) {
      const error = refusal(() => normalizeAgentSpec({ name }, defaults, ceilings));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.details).toMatchObject({ field: 'name' });
      expect(error.message).toMatch(new RegExp(`^name: "${name}" is reserved for a system agent`));
    }
  });

  it('the default max_fuel is one the wall-clock bound covers, and a default above a ceiling is a config error', () => {
    expect(config.agents.max_fuel).toBeLessThanOrEqual(1e9);
    expect(config.agents.max_memory_pages).toBeLessThan(65_536);
    expect(() => loadConfig({ env: { CAXTON_AGENTS_FUEL: '2000000000' } })).toThrow(/agents\.fuel: must not exceed agents\.max_fuel/);
    expect(() => loadConfig({ env: { CAXTON_AGENTS_MEMORY_PAGES: '2048' } })).toThrow(/agents\.memory_pages: must not exceed agents\.max_memory_pages/);
  });
});
