// `caxton state get|put|list|delete|export|import` on a node's SQLite data dir, run in-process.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/state/database.ts';
import { caxton } from '../cli/run.ts';
import { tempDir } from '../state/helpers.ts';

const dirs = [tempDir(), tempDir()];
const [source, target] = dirs.map((d) => d.path);
const env = { PATH: process.env.PATH };

beforeAll(() => {
  // A node's data dir, as a node leaves it.
  for (const dir of [source, target]) openDatabase(dir).close();
});
afterAll(() => dirs.forEach((d) => d.remove()));

const state = (dataDir: string, ...args: string[]) => caxton(['--data-dir', dataDir, 'state', '--offline', ...args], env);

describe('caxton state on a SQLite data dir', () => {
  it('puts, gets, lists and deletes an agent\'s keys, scoped to the agent', async () => {
    expect((await state(source, 'put', '--agent', 'counter', 'total', '{"n": 1}')).code).toBe(0);
    expect((await state(source, 'put', '--agent', 'counter', 'name', 'plain words', '--text')).code).toBe(0);
    const got = await state(source, 'get', '--agent', 'counter', 'total');
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout)).toEqual({ n: 1 });
    expect(JSON.parse((await state(source, 'get', '--agent', 'counter', 'name')).stdout)).toBe('plain words');
    const list = await state(source, 'list', '--agent', 'counter');
    expect(list.stdout).toBe('name\ntotal\n');
    const json = await caxton(['--data-dir', source, '--output', 'json', 'state', '--offline', 'list', '--agent', 'counter', '--prefix', 't'], env);
    expect(JSON.parse(json.stdout)).toEqual({ keys: ['total'] });
    const other = await state(source, 'get', '--agent', 'other', 'total');
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/^error: agent other has no key "total"\n$/);
    expect((await state(source, 'delete', '--agent', 'counter', 'name')).code).toBe(0);
    expect((await state(source, 'delete', '--agent', 'counter', 'name')).code).toBe(1);
  });

  it('refuses what the state tool refuses, as usage errors', async () => {
    const notJson = await state(source, 'put', '--agent', 'counter', 'k', 'not json');
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/VALUE: not JSON/);
    expect((await state(source, 'put', '--agent', 'counter', 'k'.repeat(2000), '1')).stderr).toMatch(/KEY: expected at most 1024 bytes/);
    const noAgent = await state(source, 'get', 'k');
    expect(noAgent.code).toBe(2);
    expect(noAgent.stderr).toMatch(/--agent/);
  });

  it('names a data dir without a node database instead of creating one', async () => {
    const run = await state(join(source, 'nope'), 'list', '--agent', 'a');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no node database at .*nope\/caxton\.db/);
  });

  it('exports JSON lines and imports them into another node, idempotently', async () => {
    for (let i = 0; i < 5; i++) await state(source, 'put', '--agent', `agent-${i % 2}`, `key/${i}`, JSON.stringify({ i, text: 'é\n"' }));
    const exported = await state(source, 'export');
    const lines = exported.stdout.trim().split('\n');
    expect(lines.length).toBe(6);
    expect(JSON.parse(lines[0])).toEqual({ agent: 'agent-0', key: 'key/0', value: { i: 0, text: 'é\n"' } });
    const file = join(target, 'export.jsonl');
    writeFileSync(file, exported.stdout + 'not json\n{"agent":"x","key":"","value":1}\n');
    const first = await caxton(['--data-dir', target, '--output', 'json', 'state', '--offline', 'import', file], env);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ read: 8, written: 6, unchanged: 0, skipped: 2 });
    const second = await caxton(['--data-dir', target, '--output', 'json', 'state', '--offline', 'import', file], env);
    expect(JSON.parse(second.stdout)).toMatchObject({ read: 8, written: 0, unchanged: 6, skipped: 2 });
    expect((await state(target, 'export')).stdout).toBe(exported.stdout);
    // --agent renames: the lines of every agent land in one agent's keys.
    const renamed = await caxton(['--data-dir', target, '--output', 'json', 'state', '--offline', 'import', file, '--agent', 'merged'], env);
    expect(JSON.parse(renamed.stdout)).toMatchObject({ written: 6, skipped: 2 });
    const one = await state(target, 'export', '--agent', 'merged', '--file', join(target, 'merged.jsonl'));
    expect(one.stderr).toMatch(/exported 6 entries/);
    expect(readFileSync(join(target, 'merged.jsonl'), 'utf8').trim().split('\n').length).toBe(6);
  });
});
