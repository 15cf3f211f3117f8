import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentStore, AGENT_VERSIONS_KEPT } from '../../src/state/agent-store.ts';
import { ApiKeyStore, API_KEY_PREFIX } from '../../src/state/api-key-store.ts';
import { openDatabase, type Database } from '../../src/state/database.ts';
import { ModuleStore, sha256Hex } from '../../src/state/module-store.ts';
import { loadNodeIdentity } from '../../src/state/node-identity.ts';
import { CaxtonError } from '../../src/errors.ts';
import { spec, tempDir } from './helpers.ts';

let dir: ReturnType<typeof tempDir>;
let database: Database;
beforeEach(() => {
  dir = tempDir();
  database = openDatabase(dir.path);
});
afterEach(() => {
  database.close();
  dir.remove();
});

function reopen(): Database {
  database.close();
  database = openDatabase(dir.path);
  return database;
}

describe('node identity', () => {
  it('stores the requested id (or the host name) on the first start and returns it later', () => {
    const first = loadNodeIdentity(database.db, { hostName: () => 'host-a', now: () => new Date('2026-01-01T00:00:00Z') });
    expect(first).toEqual({ nodeId: 'host-a', createdAt: '2026-01-01T00:00:00.000Z', created: true });
    reopen();
    // The host name changed (a new container): the stored identity wins.
    expect(loadNodeIdentity(database.db, { hostName: () => 'host-b' })).toEqual({
      nodeId: 'host-a',
      createdAt: '2026-01-01T00:00:00.000Z',
      created: false,
    });
    expect(loadNodeIdentity(database.db, { requestedId: 'host-a' }).created).toBe(false);
  });

  it('adopts an explicitly requested different id and reports the previous one', () => {
    loadNodeIdentity(database.db, { requestedId: 'n1' });
    const renamed = loadNodeIdentity(database.db, { requestedId: 'n2' });
    expect(renamed.nodeId).toBe('n2');
    expect(renamed.previousNodeId).toBe('n1');
    expect(loadNodeIdentity(database.db).nodeId).toBe('n2');
  });
});

describe('module store', () => {
  it('stores a module once by its sha256 and gives the bytes back', () => {
    const modules = new ModuleStore(database.db);
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
    const sha = modules.put(bytes);
    expect(sha).toBe(sha256Hex(bytes));
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(modules.put(bytes.slice())).toBe(sha);
    expect(database.db.prepare('SELECT count(*) FROM modules').pluck().get()).toBe(1);
    expect(modules.has(sha)).toBe(true);
    expect(modules.has('0'.repeat(64))).toBe(false);
    expect(Buffer.compare(modules.get(sha)!, Buffer.from(bytes))).toBe(0);
    expect(modules.get('0'.repeat(64))).toBeUndefined();
  });

  it('stores a view of a larger buffer by its own bytes only', () => {
    const modules = new ModuleStore(database.db);
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const sha = modules.put(backing.subarray(2, 5));
    expect([...modules.get(sha)!]).toEqual([1, 2, 3]);
  });
});

describe('agent store', () => {
  let modules: ModuleStore;
  let agents: AgentStore;
  const shas: string[] = [];
  beforeEach(() => {
    modules = new ModuleStore(database.db);
    agents = new AgentStore(database.db);
    shas.length = 0;
    for (let i = 0; i < 5; i++) shas.push(modules.put(new Uint8Array([i])));
  });

  it('deploys at version 1, upgrades to +1, and keeps the last versions only', () => {
    const deployed = agents.upsert({ spec: spec('echo'), moduleSha256: shas[0] });
    expect(deployed).toMatchObject({ name: 'echo', version: 1, state: 'deploying', module_sha256: shas[0], spec: spec('echo') });
    for (let i = 1; i < 5; i++) {
      agents.upsert({ spec: spec('echo', { capabilities: [`v${i}`] }), moduleSha256: shas[i], state: 'running' });
    }
    const current = agents.get('echo')!;
    expect(current.version).toBe(5);
    expect(current.module_sha256).toBe(shas[4]);
    expect(current.spec.capabilities).toEqual(['v4']);
    expect(current.created_at).toBe(deployed.created_at);
    const history = agents.versions('echo');
    expect(history.map((v) => v.version)).toEqual([5, 4, 3]);
    expect(history).toHaveLength(AGENT_VERSIONS_KEPT);
    expect(history[1].spec.capabilities).toEqual(['v3']);
    // Modules of pruned versions can go; those still referenced stay.
    expect(modules.pruneUnused()).toBe(2);
    expect(modules.has(shas[2])).toBe(true);
    expect(modules.has(shas[0])).toBe(false);
  });

  it('adopts an explicit version (from the registry)', () => {
    expect(agents.upsert({ spec: spec('a'), moduleSha256: shas[0], version: 42 }).version).toBe(42);
  });

  it('refuses an agent whose module is not stored', () => {
    expect(() => agents.upsert({ spec: spec('ghost'), moduleSha256: 'f'.repeat(64) })).toThrow(/FOREIGN KEY/);
    expect(agents.get('ghost')).toBeUndefined();
  });

  it('sets the state, lists by name, deletes with history, and survives a reopen', () => {
    agents.upsert({ spec: spec('b'), moduleSha256: shas[1] });
    agents.upsert({ spec: spec('a'), moduleSha256: shas[0] });
    expect(agents.setState('a', 'running')).toBe(true);
    expect(agents.setState('nobody', 'running')).toBe(false);
    agents = new AgentStore(reopen().db);
    expect(agents.list().map((a) => [a.name, a.state, a.version])).toEqual([
      ['a', 'running', 1],
      ['b', 'deploying', 1],
    ]);
    expect(agents.delete('a')).toBe(true);
    expect(agents.delete('a')).toBe(false);
    expect(agents.versions('a')).toEqual([]);
    expect(agents.list().map((a) => a.name)).toEqual(['b']);
  });
});

describe('API key store', () => {
  it('returns the plaintext once, stores only its hash, and verifies it to a principal', () => {
    const keys = new ApiKeyStore(database.db);
    const created = keys.create('deployer', 'ci');
    expect(created.key.startsWith(API_KEY_PREFIX)).toBe(true);
    expect(Buffer.from(created.key.slice(API_KEY_PREFIX.length), 'base64url')).toHaveLength(32);
    const dump = JSON.stringify(database.db.prepare('SELECT * FROM api_keys').all());
    expect(dump).not.toContain(created.key);
    expect(dump).not.toContain(created.key.slice(API_KEY_PREFIX.length));
    expect(keys.verify(created.key)).toEqual({ id: 'ci', role: 'deployer', via: 'api-key' });
    expect(keys.verify(created.key + 'x')).toBeNull();
    expect(keys.verify('Bearer nonsense')).toBeNull();
    expect(keys.list()).toEqual([{ id: created.id, name: 'ci', role: 'deployer', created_at: created.created_at }]);
  });

  it('checks a key in memory: a wrong one never reaches SQLite, and keys in the table at start are found', () => {
    const { key } = new ApiKeyStore(database.db).create('sender', 'app');
    // A store opened on the same table later (the node's next start) finds the key made before.
    const prepared: string[] = [];
    const counting = new Proxy(database.db, {
      get(target, property, receiver) {
        if (property !== 'prepare') return Reflect.get(target, property, receiver);
        return (sql: string) => {
          const statement = target.prepare(sql);
          return new Proxy(statement, {
            get(inner, name, innerReceiver) {
              const value = Reflect.get(inner, name, innerReceiver);
              if (typeof value !== 'function') return value;
              return (...args: unknown[]) => {
                prepared.push(sql);
                return (value as (...a: unknown[]) => unknown).apply(inner, args);
              };
            },
          });
        };
      },
    });
    const keys = new ApiKeyStore(counting);
    prepared.length = 0;
    for (let i = 0; i < 100; i++) expect(keys.verify(`${API_KEY_PREFIX}${String(i).padStart(43, 'x')}`)).toBeNull();
    expect(keys.verify(key)).toEqual({ id: 'app', role: 'sender', via: 'api-key' });
    expect(prepared).toEqual([]);
    const made = keys.create('viewer', 'later');
    expect(keys.verify(made.key)?.id).toBe('later');
    keys.revoke('later');
    expect(keys.verify(made.key)).toBeNull();
    expect(keys.verify(key)?.id).toBe('app');
  });

  it('refuses a duplicate name and an unknown role; revoke makes the key invalid at once', () => {
    const keys = new ApiKeyStore(database.db);
    const { key } = keys.create('viewer', 'dash');
    expect(() => keys.create('viewer', 'dash')).toThrow(CaxtonError);
    expect(() => keys.create('root' as never, 'x')).toThrow(/unknown role/);
    expect(keys.revoke('dash')).toBe(true);
    expect(keys.revoke('dash')).toBe(false);
    expect(keys.verify(key)).toBeNull();
  });
});
