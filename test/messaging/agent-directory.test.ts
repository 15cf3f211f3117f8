import { describe, expect, it } from 'vitest';
import { LOCAL, LocalAgentDirectory } from '../../src/messaging/agent-directory.ts';

describe('LocalAgentDirectory', () => {
  it('tells local from remote agents, sharing location objects', () => {
    const directory = new LocalAgentDirectory('n1');
    directory.upsert('a', 'n1', []);
    directory.upsert('b', 'n2', []);
    directory.upsert('c', 'n2', []);
    expect(directory.lookup('a')).toBe(LOCAL);
    expect(directory.lookup('b')).toEqual({ kind: 'remote', node: 'n2' });
    expect(directory.lookup('b')).toBe(directory.lookup('c'));
    expect(directory.lookup('zzz')).toBeUndefined();
    expect(directory.nodeOf('b')).toBe('n2');
    expect(directory.size).toBe(3);
  });

  it('indexes capabilities and keeps the index right across upgrades and removals', () => {
    const directory = new LocalAgentDirectory('n1');
    directory.upsert('a', 'n1', ['x', 'y', 'x']);
    directory.upsert('b', 'n2', ['x']);
    expect(directory.byCapability('x')).toEqual(['a', 'b']);
    expect(directory.byCapability('x')).toBe(directory.byCapability('x'));
    directory.upsert('a', 'n1', ['y']);
    expect(directory.byCapability('x')).toEqual(['b']);
    expect(directory.byCapability('y')).toEqual(['a']);
    expect(directory.remove('b')).toBe(true);
    expect(directory.remove('b')).toBe(false);
    expect(directory.byCapability('x')).toEqual([]);
    expect(directory.lookup('b')).toBeUndefined();
  });
});
