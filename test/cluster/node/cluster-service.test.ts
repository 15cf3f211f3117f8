// The cluster layer in one process over real loopback sockets: members and status as the API shows them,
// membership events, background join retries, the keyring file, and key rotation across three services.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterService, type MemberEvent } from '../../../src/cluster/cluster-service.ts';
import { KEYRING_FILE } from '../../../src/cluster/keyring-store.ts';
import { loadConfig } from '../../../src/config/config.ts';
import { freePort } from '../../helpers/node-process.ts';
import { waitUntil } from './cluster-processes.ts';

const quiet = { info() {}, warn() {}, debug() {} };
const KEY1 = Buffer.alloc(16, 1).toString('base64');
const KEY2 = Buffer.alloc(32, 2).toString('base64');

const running: ClusterService[] = [];
const dataDirs = new WeakMap<ClusterService, string>();
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop(false)));
});

async function service(id: string, flags: Record<string, unknown> = {}, events?: MemberEvent[]): Promise<ClusterService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-cluster-'));
  const config = loadConfig({ env: {}, flags: { dataDir, bindAddr: '127.0.0.1:0', apiAddr: '127.0.0.1:18080', ...flags } });
  const s = await ClusterService.start({ config, nodeId: id, version: '9.9.9', logger: quiet, onMemberEvent: (e) => events?.push(e) });
  running.push(s);
  dataDirs.set(s, dataDir);
  return s;
}

const allAlive = (services: ClusterService[], n: number) => () =>
  services.every((s) => s.members().filter((m) => m.state === 'alive').length === n);

describe('ClusterService', () => {
  it('lists members with their tags, publishes changes, and shows a graceful leave as left', async () => {
    const events: MemberEvent[] = [];
    const a = await service('a', { bootstrap: true }, events);
    const b = await service('b', { join: [a.gossipAddress] });
    await waitUntil('two alive', 5000, allAlive([a, b], 2));
    const bRow = a.members().find((m) => m.id === 'b')!;
    expect(bRow).toMatchObject({ address: b.gossipAddress, state: 'alive', isSelf: false });
    expect(bRow.tags).toEqual({ caxton: '9.9.9', api: '127.0.0.1:18080', proto: '1', started: expect.stringMatching(/^\d{13}$/) });
    expect(events.find((e) => e.id === 'b')).toMatchObject({ state: 'alive', previous: null, version: '9.9.9' });
    expect(a.status()).toEqual({ alive: 2, expected: 2, quorum: 2, mode: 'read-write', health: 'healthy' });

    await b.stop();
    await waitUntil('b left', 3000, () => a.members().find((m) => m.id === 'b')?.state === 'left');
    expect(events.some((e) => e.id === 'b' && e.state === 'dead')).toBe(false);
    // A graceful leave shrinks the cluster on purpose: one node alone is its own quorum.
    expect(a.status()).toMatchObject({ alive: 1, expected: 1, quorum: 1, mode: 'read-write' });
  });

  it('keeps retrying --join in the background until the peer comes up', async () => {
    const port = await freePort();
    const b = await service('b', { join: [`127.0.0.1:${port}`] });
    await new Promise((r) => setTimeout(r, 1200)); // the first attempt failed, a retry is scheduled
    expect(b.members().map((m) => m.id)).toEqual(['b']);
    const a = await service('a', { bindAddr: `127.0.0.1:${port}` });
    await b.joined();
    await waitUntil('joined late', 5000, allAlive([a, b], 2));
  });

  it('bootstrap_expect sets the quorum; without quorum the side is read-only', async () => {
    const a = await service('a', { bootstrapExpect: 3 });
    expect(a.status()).toEqual({ alive: 1, expected: 3, quorum: 2, mode: 'read-only', health: 'degraded' });
  });

  it('keeps the keyring in the data dir with mode 0600 and rotates keys on every member', async () => {
    const a = await service('a', { encrypt: KEY1 });
    const b = await service('b', { encrypt: KEY1, join: [a.gossipAddress] });
    const c = await service('c', { encrypt: KEY1, join: [a.gossipAddress] });
    await waitUntil('three alive', 5000, allAlive([a, b, c], 3));
    const file = join(dataDirs.get(b)!, KEYRING_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([KEY1]);

    expect(await b.keyOperation('install', KEY2)).toMatchObject({ members: 3, applied: 3, failed: [], skipped: [] });
    expect(await b.keyOperation('use', KEY2)).toMatchObject({ applied: 3, failed: [] });
    // Removing the primary is refused before anything is sent.
    await expect(a.keyOperation('remove', KEY2)).rejects.toThrow(/primary/);
    expect(await c.keyOperation('remove', KEY1)).toMatchObject({ applied: 3, failed: [] });
    expect((await a.keyOperation('list')).keys).toEqual([{ key: KEY2, installed: 3, primary: 3 }]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([KEY2]);
    await expect(a.keyOperation('install', 'not a key')).rejects.toThrow(/base64 key/);

    // Still one cluster: everyone alive after the old key is gone.
    await new Promise((r) => setTimeout(r, 1000));
    expect(allAlive([a, b, c], 3)()).toBe(true);
  });

  it('refuses key operations when gossip is not encrypted', async () => {
    const a = await service('a');
    await expect(a.keyOperation('list')).rejects.toThrow(/not enabled/);
  });
});
