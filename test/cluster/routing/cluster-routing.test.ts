// Routing as the node's cluster layer sets it up: a bootstrap node makes the cluster CA, a join token lets
// another node get its certificate over the gossip port, and the two exchange messages over a link.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterService } from '../../../src/cluster/cluster-service.ts';
import { issueNodeCertificate } from '../../../src/cluster/pki/certificates.ts';
import { loadCa } from '../../../src/cluster/pki/tls-files.ts';
import { loadConfig } from '../../../src/config/config.ts';
import type { AclMessage } from '../../../src/messaging/message.ts';
import { message, until } from './link-fixture.ts';

const running: ClusterService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop(false)));
});

function logger(lines: string[] = []) {
  const log = (_d: Record<string, unknown>, m: string) => void lines.push(m);
  return { info: log, warn: log, debug() {} };
}

async function service(id: string, flags: Record<string, unknown> = {}, lines?: string[], env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'caxton-routing-'));
  const config = loadConfig({ env, flags: { dataDir, bindAddr: '127.0.0.1:0', apiAddr: '127.0.0.1:18080', ...flags } });
  const s = await ClusterService.start({ config, nodeId: id, version: '9.9.9', logger: logger(lines) });
  running.push(s);
  return { s, dataDir };
}

describe('routing in the cluster layer', () => {
  it('bootstrap makes the CA, a token join gets a certificate, and the nodes exchange messages', async () => {
    const { s: a, dataDir: aDir } = await service('node-a', { bootstrap: true });
    expect(statSync(join(aDir, 'tls', 'ca.key')).mode & 0o777).toBe(0o600);
    const token = a.createJoinToken();
    expect(token).toMatch(/^caxton-join-v1\.[0-9a-f]{64}\.[A-Za-z0-9_-]{43}$/);
    const { s: b, dataDir: bDir } = await service('node-b', { join: [a.gossipAddress], token });
    expect(b.tls?.source).toBe('enrolled');
    expect(statSync(join(bDir, 'tls', 'node.key')).mode & 0o777).toBe(0o600);
    await until(() => a.members().filter((m) => m.state === 'alive').length === 2 && b.members().filter((m) => m.state === 'alive').length === 2);
    expect(a.members().find((m) => m.id === 'node-b')?.tags.route).toBe(b.gossipAddress);
    const atB: Array<[string, AclMessage]> = [];
    const atA: Array<[string, AclMessage]> = [];
    b.routing!.onMessage((from, m) => atB.push([from, m]));
    a.routing!.onMessage((from, m) => atA.push([from, m]));
    const m1 = message('alice', 'bob');
    expect(a.routing!.sendMessage('node-b', m1, 'receiver')).toBe('queued');
    await until(() => atB.length === 1);
    expect(atB[0]).toEqual(['node-a', m1]);
    expect(b.routing!.sendMessage('node-a', message('bob', 'alice'), 'receiver')).toBe('queued');
    await until(() => atA.length === 1);
    expect(atA[0][0]).toBe('node-b');
    // Gossip still works beside routing on the same port (push-pull and streams went through the peek).
    expect(b.createJoinToken).toThrow();
  });

  it('a join with a wrong token fails with one clear line', async () => {
    const { s: a } = await service('node-a', { bootstrap: true });
    const good = a.createJoinToken();
    const [prefix, fingerprint] = good.split('.');
    const wrongSecret = `${prefix}.${fingerprint}.${'A'.repeat(43)}`;
    await expect(service('node-b', { join: [a.gossipAddress], token: wrongSecret })).rejects.toThrow(
      /^join refused by 127\.0\.0\.1:\d+: the join token is unknown or expired: ask `caxton cluster token`/,
    );
    const wrongCa = `${prefix}.${'0'.repeat(64)}.${good.split('.')[2]}`;
    await expect(service('node-c', { join: [a.gossipAddress], token: wrongCa })).rejects.toThrow(/the node's CA does not match the token's fingerprint/);
    await expect(service('node-d', { join: [a.gossipAddress], token: 'not-a-token' })).rejects.toThrow(/not a join token/);
  });

  it('a --join without token or TLS material says how to fix it, and gossip still runs', async () => {
    const { s: a } = await service('node-a', { bootstrap: true });
    const lines: string[] = [];
    const { s: b } = await service('node-b', { join: [a.gossipAddress] }, lines);
    expect(b.routing).toBeUndefined();
    expect(lines.filter((l) => l.startsWith('routing disabled'))).toEqual([
      'routing disabled: --join needs routing TLS material: add --token TOKEN (run `caxton cluster token` on a node of the cluster) or --tls-dir DIR (your own PKI)',
    ]);
    await b.joined();
  });

  it('reloads a renewed certificate from disk without restart', async () => {
    const lines: string[] = [];
    const { s: a, dataDir } = await service('node-a', { bootstrap: true }, lines, { CAXTON_ROUTING_TLS_RELOAD_INTERVAL_MS: '50' });
    const dir = join(dataDir, 'tls');
    const renewed = await issueNodeCertificate(loadCa(dir), 'node-a');
    writeFileSync(join(dir, 'node.key'), renewed.keyPem);
    writeFileSync(join(dir, 'node.pem'), renewed.certPem);
    await until(() => lines.includes('routing: TLS material reloaded') && a.tls?.material.certPem === renewed.certPem);
  });
});
