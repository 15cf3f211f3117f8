// Tool grants in an agent spec are bounded like its capabilities: a spec rides in every registry entry and is
// read on each call_tool, and 100,000 tool names were accepted. A server named "__proto__" was assigned as the
// grants object's prototype and vanished from every lookup; it stays an ordinary grant now.
import { describe, expect, it } from 'vitest';
import { CaxtonError } from '../../src/errors.ts';
import { normalizeAgentSpec } from '../../src/node/agent-spec.ts';

const defaults = { memory_pages: 16, fuel: 1_000_000, mailbox: 100 };

function refusal(fn: () => unknown): CaxtonError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CaxtonError);
    return error as CaxtonError;
  }
  throw new Error('expected a refusal');
}

describe('tool grants in an agent spec', () => {
  it('refuses more than 64 servers, naming the field', () => {
    const tools = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`server${i}`, '*' as const]));
    const error = refusal(() => normalizeAgentSpec({ name: 'a', tools }, defaults));
    expect(error.details).toMatchObject({ field: 'tools' });
    expect(error.message).toMatch(/at most 64 servers, got 65/);
    expect(Object.keys(normalizeAgentSpec({ name: 'a', tools: Object.fromEntries(Object.entries(tools).slice(0, 64)) }, defaults).tools)).toHaveLength(64);
  });

  it('refuses more than 1,024 distinct tool names for one server, and says "*" grants all', () => {
    const names = Array.from({ length: 1_025 }, (_, i) => `tool${i}`);
    const error = refusal(() => normalizeAgentSpec({ name: 'a', tools: { memory: names } }, defaults));
    expect(error.details).toMatchObject({ field: 'tools.memory' });
    expect(error.message).toMatch(/at most 1024 tool names \(grant "\*" for all\), got 1025/);
    // Repeats count once.
    const repeated = [...names.slice(0, 1_024), ...names.slice(0, 1_024)];
    expect(normalizeAgentSpec({ name: 'a', tools: { memory: repeated } }, defaults).tools.memory).toHaveLength(1_024);
  });

  it('keeps a server named "__proto__" as an own grant, not the prototype', () => {
    const tools = JSON.parse('{"__proto__": ["read"], "state": "*"}');
    const spec = normalizeAgentSpec({ name: 'a', tools }, defaults);
    expect(Object.hasOwn(spec.tools, '__proto__')).toBe(true);
    expect(spec.tools['__proto__']).toEqual(['read']);
    expect(Object.getPrototypeOf(spec.tools)).toBe(Object.prototype);
    expect(Object.keys(spec.tools).sort()).toEqual(['__proto__', 'state']);
  });
});
