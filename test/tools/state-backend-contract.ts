// The contract every state backend meets, run by sqlite-state-backend.test.ts and
// postgres-state-backend.test.ts: the backend interface itself and the state tool (tools.md) on top of it.
import { describe, expect, it } from 'vitest';
import { BatchTooLarge, type StateBackend } from '../../src/tools/state/state-backend.ts';
import { StateQuotaExceeded, type StateQuota } from '../../src/tools/state/state-quota.ts';
import { CaxtonError } from '../../src/errors.ts';
import { createStateToolServer } from '../../src/tools/state/state-tool.ts';
import type { BuiltinCallResult } from '../../src/tools/builtin-server.ts';
import { STATE_BATCH_MAX_ENTRIES, STATE_LIST_MAX_KEYS, STATE_VALUE_MAX_BYTES } from '../../src/tools/state/state-limits.ts';

export interface ContractTarget {
  /** A backend on storage shared by every call in this file; each test uses its own agent names. */
  backend(): StateBackend;
  /** Another backend on the same storage with its own quota (another node, configured so); the test closes it. */
  backendWithQuota(quota: StateQuota): Promise<StateBackend>;
}

let unique = 0;
/** An agent name no other test of the file uses, so tests share one database without seeing each other. */
const agentName = (label: string): string => `${label}-${process.pid}-${++unique}`;

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function errorText(result: BuiltinCallResult): string {
  expect(result.isError).toBe(true);
  return result.content[0].text;
}

export function stateBackendContract(kind: 'sqlite' | 'postgres', target: ContractTarget): void {
  describe(`StateBackend contract (${kind})`, () => {
    it('names its kind', () => {
      expect(target.backend().kind).toBe(kind);
    });

    it('stores, retrieves, overwrites and deletes a value', async () => {
      const backend = target.backend();
      const agent = agentName('a');
      expect(await backend.retrieve(agent, 'k')).toBeNull();
      expect(await backend.exists(agent, 'k')).toBe(false);
      await backend.store(agent, 'k', '{"n":1}');
      expect(await backend.retrieve(agent, 'k')).toBe('{"n":1}');
      expect(await backend.exists(agent, 'k')).toBe(true);
      await backend.store(agent, 'k', '[2]');
      expect(await backend.retrieve(agent, 'k')).toBe('[2]');
      expect(await backend.delete(agent, 'k')).toBe(true);
      expect(await backend.delete(agent, 'k')).toBe(false);
      expect(await backend.retrieve(agent, 'k')).toBeNull();
    });

    it('keeps each agent to its own keys', async () => {
      const backend = target.backend();
      const [alice, bob] = [agentName('alice'), agentName('bob')];
      await backend.store(alice, 'secret', '"alice"');
      expect(await backend.retrieve(bob, 'secret')).toBeNull();
      expect(await backend.exists(bob, 'secret')).toBe(false);
      expect(await backend.delete(bob, 'secret')).toBe(false);
      expect(await backend.list(bob, '', 10)).toEqual([]);
      expect((await backend.batchRetrieve(bob, ['secret'])).size).toBe(0);
      expect(await collect(backend.entries(bob))).toEqual([]);
      expect(await backend.retrieve(alice, 'secret')).toBe('"alice"');
    });

    it('lists keys by prefix in code point order, bounded by limit', async () => {
      const backend = target.backend();
      const agent = agentName('lister');
      const keys = ['b', 'a/2', 'a/1', 'a', 'ab', 'a/10', 'A', 'é', 'a/é', 'a/😀', 'z'];
      for (const key of keys) await backend.store(agent, key, '1');
      expect(await backend.list(agent, 'a/', 100)).toEqual(['a/1', 'a/10', 'a/2', 'a/é', 'a/😀']);
      expect(await backend.list(agent, 'a', 100)).toEqual(['a', 'a/1', 'a/10', 'a/2', 'a/é', 'a/😀', 'ab']);
      expect(await backend.list(agent, 'a/', 2)).toEqual(['a/1', 'a/10']);
      expect(await backend.list(agent, '', 100)).toEqual(['A', 'a', 'a/1', 'a/10', 'a/2', 'a/é', 'a/😀', 'ab', 'b', 'z', 'é']);
      expect(await backend.list(agent, 'q', 100)).toEqual([]);
      // LIKE wildcards are plain characters in a prefix.
      await backend.store(agent, '%x', '1');
      await backend.store(agent, '_y', '1');
      expect(await backend.list(agent, '%', 10)).toEqual(['%x']);
      expect(await backend.list(agent, '_', 10)).toEqual(['_y']);
    });

    it('batch-stores all entries, the last of a repeated key winning, and batch-retrieves only present keys', async () => {
      const backend = target.backend();
      const agent = agentName('batch');
      await backend.batchStore(agent, [
        { key: 'x', valueJson: '1' },
        { key: 'y', valueJson: '2' },
        { key: 'x', valueJson: '3' },
      ]);
      await backend.batchStore(agent, []);
      const found = await backend.batchRetrieve(agent, ['x', 'y', 'missing']);
      expect(Object.fromEntries(found)).toEqual({ x: '3', y: '2' });
      expect((await backend.batchRetrieve(agent, [])).size).toBe(0);
    });

    it('batch-retrieves within a byte budget, refusing a batch whose values together pass it', async () => {
      const backend = target.backend();
      const agent = agentName('budget');
      await backend.batchStore(agent, [
        { key: 'a', valueJson: '"12345678"' },
        { key: 'b', valueJson: '"12345678"' },
        { key: 'c', valueJson: '"12345678"' },
      ]);
      expect((await backend.batchRetrieve(agent, ['a', 'b', 'c', 'missing'], 30)).size).toBe(3);
      await expect(backend.batchRetrieve(agent, ['a', 'b', 'c'], 29)).rejects.toBeInstanceOf(BatchTooLarge);
      expect((await backend.batchRetrieve(agent, ['a', 'c'], 20)).size).toBe(2);
    });

    it('iterates entries of one agent or of all, in (agent, key) order, across pages', async () => {
      const backend = target.backend();
      const agent = agentName('many');
      const entries = Array.from({ length: 1234 }, (_, i) => ({ key: `k${String(i).padStart(5, '0')}`, valueJson: String(i) }));
      for (let i = 0; i < entries.length; i += 500) await backend.batchStore(agent, entries.slice(i, i + 500));
      const mine = await collect(backend.entries(agent));
      expect(mine.length).toBe(1234);
      expect(mine[0]).toEqual({ agent, key: 'k00000', value: '0' });
      expect(mine[1233]).toEqual({ agent, key: 'k01233', value: '1233' });
      const all = await collect(backend.entries());
      const ofAgent = all.filter((e) => e.agent === agent);
      expect(ofAgent).toEqual(mine);
      const order = all.map((e) => [e.agent, e.key] as const);
      const sorted = [...order].sort((p, q) => (p[0] === q[0] ? Buffer.compare(Buffer.from(p[1]), Buffer.from(q[1])) : Buffer.compare(Buffer.from(p[0]), Buffer.from(q[0]))));
      expect(order).toEqual(sorted);
    });

    it('keeps a value of 1 MiB and unusual keys exactly', async () => {
      const backend = target.backend();
      const agent = agentName('big');
      const big = JSON.stringify('x'.repeat(STATE_VALUE_MAX_BYTES - 2));
      await backend.store(agent, 'big', big);
      expect(await backend.retrieve(agent, 'big')).toBe(big);
      for (const key of ["it's", 'a"b', 'tab\tkey', '😀', ' ', '__proto__', 'k'.repeat(1024)]) {
        await backend.store(agent, key, JSON.stringify(key));
        expect(await backend.retrieve(agent, key)).toBe(JSON.stringify(key));
      }
    });

    describe('the per-agent quota', () => {
      /** Bytes the quota counts for an entry: UTF-8 of key and of value JSON text. */
      const size = (key: string, valueJson: string) => Buffer.byteLength(key) + Buffer.byteLength(valueJson);

      async function withQuota<T>(quota: StateQuota, work: (backend: StateBackend) => Promise<T>): Promise<T> {
        const backend = await target.backendWithQuota(quota);
        try {
          return await work(backend);
        } finally {
          await backend.close();
        }
      }

      it('counts keys and bytes, overwrites by the difference, and frees on delete', async () => {
        const backend = target.backend();
        const agent = agentName('usage');
        expect(await backend.usage(agent)).toEqual({ keys: 0, bytes: 0 });
        await backend.store(agent, 'k', '"12345"');
        expect(await backend.usage(agent)).toEqual({ keys: 1, bytes: size('k', '"12345"') });
        await backend.store(agent, 'k', '1');
        expect(await backend.usage(agent)).toEqual({ keys: 1, bytes: size('k', '1') });
        await backend.batchStore(agent, [
          { key: 'é', valueJson: '"😀"' },
          { key: 'k', valueJson: '"long value"' },
          { key: 'é', valueJson: '"ü"' },
        ]);
        expect(await backend.usage(agent)).toEqual({ keys: 2, bytes: size('k', '"long value"') + size('é', '"ü"') });
        expect(await backend.delete(agent, 'k')).toBe(true);
        expect(await backend.delete(agent, 'k')).toBe(false);
        expect(await backend.usage(agent)).toEqual({ keys: 1, bytes: size('é', '"ü"') });
        expect(await backend.delete(agent, 'é')).toBe(true);
        expect(await backend.usage(agent)).toEqual({ keys: 0, bytes: 0 });
        // The count is what the table holds, whatever the path the values took.
        const other = agentName('usage-other');
        expect(await backend.usage(other)).toEqual({ keys: 0, bytes: 0 });
      });

      it('refuses a batch_store past max_bytes_per_agent with QUOTA_EXCEEDED, writing none of it', async () => {
        const agent = agentName('bytes');
        await withQuota({ maxKeys: 0, maxBytes: 100 }, async (backend) => {
          await backend.batchStore(agent, [{ key: 'a', valueJson: `"${'x'.repeat(38)}"` }]); // 41 bytes
          const batch = [
            { key: 'b', valueJson: `"${'y'.repeat(38)}"` }, // 41 bytes: 82 in all, fits
            { key: 'c', valueJson: `"${'z'.repeat(18)}"` }, // 21 more: 103 > 100
          ];
          const refusal = await backend.batchStore(agent, batch).then(() => null, (error: unknown) => error);
          expect(refusal).toBeInstanceOf(StateQuotaExceeded);
          expect(refusal).toBeInstanceOf(CaxtonError);
          expect(refusal).toMatchObject({
            code: 'QUOTA_EXCEEDED',
            details: { agent, quota: 'state.max_bytes_per_agent', limit: 100, keys: 1, bytes: 41, adds_keys: 2, adds_bytes: 62 },
          });
          expect((refusal as Error).message).toMatch(/state\.max_bytes_per_agent \(100\): it keeps 1 keys, 41 bytes/);
          expect(await backend.exists(agent, 'b')).toBe(false);
          expect(await backend.exists(agent, 'c')).toBe(false);
          expect(await backend.usage(agent)).toEqual({ keys: 1, bytes: 41 });
          // Exactly at the quota is within it.
          await backend.batchStore(agent, [batch[0], { key: 'c', valueJson: `"${'z'.repeat(15)}"` }]);
          expect(await backend.usage(agent)).toEqual({ keys: 3, bytes: 100 });
          await expect(backend.store(agent, 'd', '1')).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
          expect(await backend.exists(agent, 'd')).toBe(false);
        });
      });

      it('refuses a new key past max_keys_per_agent, not an overwrite, and counts a repeated key once', async () => {
        const agent = agentName('keys');
        await withQuota({ maxKeys: 3, maxBytes: 0 }, async (backend) => {
          await backend.batchStore(agent, [
            { key: 'a', valueJson: '1' },
            { key: 'b', valueJson: '1' },
            { key: 'a', valueJson: '2' },
          ]);
          expect(await backend.usage(agent)).toEqual({ keys: 2, bytes: size('a', '2') + size('b', '1') });
          const refused = backend.batchStore(agent, [
            { key: 'c', valueJson: '1' },
            { key: 'd', valueJson: '1' },
          ]);
          await expect(refused).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', details: { quota: 'state.max_keys_per_agent', limit: 3, keys: 2, adds_keys: 2 } });
          expect(await backend.list(agent, '', 10)).toEqual(['a', 'b']);
          await backend.store(agent, 'c', '1');
          await expect(backend.store(agent, 'd', '1')).rejects.toBeInstanceOf(StateQuotaExceeded);
          // At the quota: overwriting a key adds none, and a delete makes room.
          await backend.batchStore(agent, [{ key: 'a', valueJson: '"bigger"' }, { key: 'b', valueJson: '3' }]);
          expect(await backend.delete(agent, 'c')).toBe(true);
          await backend.store(agent, 'd', '1');
          expect(await backend.list(agent, '', 10)).toEqual(['a', 'b', 'd']);
        });
      });

      it('lets an import pass the quota, counting it, after which only writes that do not grow are taken', async () => {
        const agent = agentName('imported');
        await withQuota({ maxKeys: 2, maxBytes: 50 }, async (backend) => {
          const entries = ['a', 'b', 'c'].map((key) => ({ key, valueJson: `"${key.repeat(20)}"` })); // 23 bytes each
          await backend.batchStore(agent, entries, { enforceQuota: false });
          expect(await backend.usage(agent)).toEqual({ keys: 3, bytes: 69 });
          await expect(backend.store(agent, 'd', '1')).rejects.toMatchObject({ details: { quota: 'state.max_keys_per_agent' } });
          await expect(backend.store(agent, 'a', `"${'a'.repeat(30)}"`)).rejects.toMatchObject({ details: { quota: 'state.max_bytes_per_agent' } });
          await backend.store(agent, 'a', '"a"');
          expect(await backend.usage(agent)).toEqual({ keys: 3, bytes: 69 - 23 + size('a', '"a"') });
          expect(await backend.delete(agent, 'b')).toBe(true);
          expect(await backend.usage(agent)).toEqual({ keys: 2, bytes: 50 - 23 });
        });
      });

      it('gives the agent QUOTA_EXCEEDED through the state tool, as the code of its failure', async () => {
        const agent = agentName('tool-quota');
        await withQuota({ maxKeys: 0, maxBytes: 64 }, async (backend) => {
          const server = createStateToolServer(backend);
          expect((await server.call(agent, 'store', { key: 'k', value: 'x'.repeat(40) })).structuredContent).toEqual({ ok: true });
          const refused = server.call(agent, 'batch_store', { entries: [{ key: 'k2', value: 'y'.repeat(40) }, { key: 'k3', value: 1 }] });
          await expect(refused).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', details: { agent, quota: 'state.max_bytes_per_agent', keys: 1, bytes: 43 } });
          expect((await server.call(agent, 'list', {})).structuredContent).toEqual({ keys: ['k'], truncated: false });
        });
      });

      it('has no bound where the quota is 0', async () => {
        const agent = agentName('unlimited');
        await withQuota({ maxKeys: 0, maxBytes: 0 }, async (backend) => {
          const entries = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, valueJson: JSON.stringify('v'.repeat(1000)) }));
          await backend.batchStore(agent, entries);
          expect((await backend.usage(agent)).keys).toBe(1000);
        });
      });
    });

    describe('the state tool on it', () => {
      const tool = () => createStateToolServer(target.backend());

      it('lists every tool of tools.md with input and output schemas', () => {
        const tools = tool().tools();
        expect(tools.map((t) => t.name)).toEqual(['store', 'retrieve', 'delete', 'list', 'exists', 'batch_store', 'batch_retrieve']);
        for (const t of tools) {
          expect(t.inputSchema.type).toBe('object');
          expect(t.outputSchema?.type).toBe('object');
          expect(t.description.length).toBeGreaterThan(0);
        }
        const store = tools.find((t) => t.name === 'store')!;
        expect(store.inputSchema.required).toEqual(['key', 'value']);
      });

      it('answers each tool with the structuredContent of the table and the same JSON as text', async () => {
        const server = tool();
        const agent = agentName('tool');
        const call = async (name: string, args: Record<string, unknown>) => {
          const result = await server.call(agent, name, args);
          expect(result.isError).toBeFalsy();
          expect(JSON.parse(result.content[0].text)).toEqual(result.structuredContent);
          return result.structuredContent;
        };
        expect(await call('store', { key: 'greeting', value: { text: 'hi', n: [1, 2] } })).toEqual({ ok: true });
        expect(await call('retrieve', { key: 'greeting' })).toEqual({ value: { text: 'hi', n: [1, 2] } });
        expect(await call('retrieve', { key: 'absent' })).toEqual({ value: null });
        expect(await call('exists', { key: 'greeting' })).toEqual({ exists: true });
        expect(await call('exists', { key: 'absent' })).toEqual({ exists: false });
        expect(await call('list', { prefix: 'gr' })).toEqual({ keys: ['greeting'], truncated: false });
        expect(await call('batch_store', { entries: [{ key: 'a', value: 1 }, { key: 'b', value: null }, { key: '__proto__', value: 'p' }] })).toEqual({ ok: true });
        const values = (await call('batch_retrieve', { keys: ['a', 'b', 'c', '__proto__'] }))!.values as Record<string, unknown>;
        expect(Object.keys(values).sort()).toEqual(['__proto__', 'a', 'b']);
        expect(values.a).toBe(1);
        expect(values.b).toBeNull();
        expect(Object.getOwnPropertyDescriptor(values, '__proto__')?.value).toBe('p');
        expect(await call('list', { prefix: '' })).toEqual({ keys: ['__proto__', 'a', 'b', 'greeting'], truncated: false });
        expect(await call('list', { prefix: '', limit: 2 })).toEqual({ keys: ['__proto__', 'a'], truncated: true });
        expect(await call('delete', { key: 'greeting' })).toEqual({ deleted: true });
        expect(await call('delete', { key: 'greeting' })).toEqual({ deleted: false });
      });

      it('scopes keys to the calling agent', async () => {
        const server = tool();
        const [alice, bob] = [agentName('alice'), agentName('bob')];
        await server.call(alice, 'store', { key: 'k', value: 'mine' });
        expect((await server.call(bob, 'retrieve', { key: 'k' })).structuredContent).toEqual({ value: null });
        expect((await server.call(bob, 'list', {})).structuredContent).toEqual({ keys: [], truncated: false });
        expect((await server.call(alice, 'retrieve', { key: 'k' })).structuredContent).toEqual({ value: 'mine' });
      });

      it('refuses bad arguments with a tool error naming the field', async () => {
        const server = tool();
        const agent = agentName('bad');
        expect(errorText(await server.call(agent, 'store', { value: 1 }))).toMatch(/^key: /);
        expect(errorText(await server.call(agent, 'store', { key: 5, value: 1 }))).toMatch(/^key: expected a string/);
        expect(errorText(await server.call(agent, 'store', { key: '' , value: 1 }))).toMatch(/^key: /);
        expect(errorText(await server.call(agent, 'store', { key: 'k' }))).toMatch(/^value: /);
        expect(errorText(await server.call(agent, 'store', { key: 'a\u0000b', value: 1 }))).toMatch(/^key: .*NUL/);
        expect(errorText(await server.call(agent, 'store', { key: '\ud800', value: 1 }))).toMatch(/^key: .*surrogate/);
        expect(errorText(await server.call(agent, 'store', { key: 'k'.repeat(1025), value: 1 }))).toMatch(/^key: expected at most 1024 bytes/);
        expect(errorText(await server.call(agent, 'store', { key: 'big', value: 'x'.repeat(STATE_VALUE_MAX_BYTES) }))).toMatch(/^value: \d+ bytes of JSON, more than/);
        expect(errorText(await server.call(agent, 'store', { key: 'n', value: 10n }))).toMatch(/^value: not representable as JSON/);
        expect(errorText(await server.call(agent, 'retrieve', {}))).toMatch(/^key: /);
        expect(errorText(await server.call(agent, 'list', { prefix: 3 }))).toMatch(/^prefix: /);
        expect(errorText(await server.call(agent, 'list', { limit: STATE_LIST_MAX_KEYS + 1 }))).toMatch(/^limit: /);
        expect(errorText(await server.call(agent, 'batch_store', { entries: 'no' }))).toMatch(/^entries: /);
        expect(errorText(await server.call(agent, 'batch_store', { entries: [{ key: 'ok', value: 1 }, { key: 7, value: 1 }] }))).toMatch(/^entries\.1\.key: /);
        const tooMany = Array.from({ length: STATE_BATCH_MAX_ENTRIES + 1 }, (_, i) => ({ key: `k${i}`, value: i }));
        expect(errorText(await server.call(agent, 'batch_store', { entries: tooMany }))).toMatch(/^entries: expected at most/);
        expect(errorText(await server.call(agent, 'batch_retrieve', { keys: ['a', 2] }))).toMatch(/^keys\.1: /);
        expect(errorText(await server.call(agent, 'nope', {}))).toMatch(/unknown tool 'nope'/);
        // Nothing of the refused calls was stored.
        expect((await server.call(agent, 'list', {})).structuredContent).toEqual({ keys: [], truncated: false });
      });

      it('stores all of a batch or, when one value is refused, none of it', async () => {
        const server = tool();
        const agent = agentName('allornothing');
        const refused = await server.call(agent, 'batch_store', {
          entries: [
            { key: 'first', value: 1 },
            { key: 'huge', value: 'x'.repeat(STATE_VALUE_MAX_BYTES) },
          ],
        });
        expect(errorText(refused)).toMatch(/^entries\.1\.value: /);
        expect((await server.call(agent, 'exists', { key: 'first' })).structuredContent).toEqual({ exists: false });
        const stored = await server.call(agent, 'batch_store', { entries: [{ key: 'first', value: 1 }, { key: 'second', value: 2 }] });
        expect(stored.structuredContent).toEqual({ ok: true });
        expect((await server.call(agent, 'batch_retrieve', { keys: ['first', 'second'] })).structuredContent).toEqual({ values: { first: 1, second: 2 } });
      });

      it('rolls a batch back in the backend when a write fails part way', async () => {
        const backend = target.backend();
        const agent = agentName('rollback');
        // A key the tool would refuse, written straight to the backend: storage refuses NUL (PostgreSQL) or
        // the test forces a failure by a value that is not text. Either way nothing of the batch remains.
        const failing = [
          { key: 'kept-out', valueJson: '1' },
          { key: 'bad', valueJson: null as unknown as string },
        ];
        await expect(backend.batchStore(agent, failing)).rejects.toThrow();
        expect(await backend.exists(agent, 'kept-out')).toBe(false);
      });
    });
  });
}
