// An operator's own PKI: `caxton security init-ca` and `gen-cert` (offline), then two links using the files.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTlsMaterial } from '../../../src/cluster/pki/tls-files.ts';
import { RoutingLinks } from '../../../src/cluster/routing/routing-links.ts';
import { caxton } from '../../cli/run.ts';
import { listenTls, message, until } from './link-fixture.ts';

const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

describe('caxton security init-ca / gen-cert', () => {
  it('makes files two nodes use to link', async () => {
    const root = mkdtempSync(join(tmpdir(), 'caxton-pki-'));
    const ca = join(root, 'ca');
    expect((await caxton(['security', 'init-ca', '--out', ca], {})).code).toBe(0);
    expect(statSync(join(ca, 'ca.key')).mode & 0o777).toBe(0o600);
    const again = await caxton(['security', 'init-ca', '--out', ca], {});
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('refusing to replace a CA');
    for (const id of ['n1', 'n2']) {
      const run = await caxton(['security', 'gen-cert', '--node-id', id, '--ca', ca, '--out', join(root, id)], {});
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`${join(root, id, 'node.pem')}\n`);
      expect(statSync(join(root, id, 'node.key')).mode & 0o777).toBe(0o600);
    }
    const ports = new Map<string, number>();
    const links = ['n1', 'n2'].map(
      (id) => new RoutingLinks({ nodeId: id, tls: loadTlsMaterial(join(root, id)), addressOf: (p) => (ports.has(p) ? { host: '127.0.0.1', port: ports.get(p)! } : undefined) }),
    );
    for (const [i, id] of ['n1', 'n2'].entries()) {
      const { server, port } = await listenTls((s, h) => links[i].acceptSocket(s, h));
      ports.set(id, port);
      cleanup.push(() => {
        links[i].close();
        server.close();
      });
    }
    let got = '';
    links[1].onMessage((from) => (got = from));
    links[0].sendMessage('n2', message('a', 'b'), 'receiver');
    await until(() => got === 'n1');
  });
});
