// Review finding: with api.addr on `localhost`, Fastify binds each of its addresses, the extra ones on second
// http.Servers the node never configures: a flood there was not bounded by api.max_connections (nor would a
// certificate reload reach them). Now a name is resolved to one address and the API has one server. The
// resolver is made to answer two addresses for localhost, as on hosts where it is 127.0.0.1 and ::1.
import dns from 'node:dns';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listenHostOf } from '../../src/api/listen-host.ts';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { freePort } from '../helpers/free-port.ts';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Opens a connection and asks /health on it: true when answered (it stays open), false when closed or refused. */
function served(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.on('connect', () => socket.write('GET /health HTTP/1.1\r\nHost: caxton\r\n\r\n'));
    socket.on('data', (chunk) => {
      if (chunk.toString().startsWith('HTTP/1.1 200')) resolve(true);
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
    setTimeout(() => socket.destroy(), 3_000).unref();
  });
}

describe('api.addr with a host name', () => {
  it('resolves to one address: names are looked up, IPs kept', async () => {
    expect(await listenHostOf('127.0.0.1', async () => ({ address: 'never' }))).toBe('127.0.0.1');
    expect(await listenHostOf('::1', async () => ({ address: 'never' }))).toBe('::1');
    expect(await listenHostOf('api.example', async () => ({ address: '10.1.2.3' }))).toBe('10.1.2.3');
    await expect(listenHostOf('nowhere.invalid', async () => Promise.reject(new Error('ENOTFOUND')))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      details: { field: 'api.addr' },
    });
  });

  it('on localhost with two addresses, api.max_connections bounds every connection the API accepts', async () => {
    const lookup = dns.lookup;
    vi.spyOn(dns, 'lookup').mockImplementation(((host: string, options: unknown, callback: unknown) => {
      if (host === 'localhost' && typeof options === 'object' && (options as { all?: boolean }).all === true) {
        (callback as (e: null, a: dns.LookupAddress[]) => void)(null, [
          { address: '127.0.0.1', family: 4 },
          { address: '127.0.0.2', family: 4 },
        ]);
        return;
      }
      return (lookup as (...a: unknown[]) => unknown)(host, options, callback);
    }) as typeof dns.lookup);
    const dataDir = mkdtempSync(join(tmpdir(), 'caxton-listen-host-'));
    dirs.push(dataDir);
    const port = await freePort();
    const config = loadConfig({ flags: { dataDir, logLevel: 'silent' }, env: { CAXTON_API_ADDR: `localhost:${port}`, CAXTON_API_MAX_CONNECTIONS: '2' } });
    const node = await CaxtonNode.start({ config, gossip: false });
    try {
      const outcomes: boolean[] = [];
      for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.1', '127.0.0.2', '127.0.0.2', '127.0.0.2']) outcomes.push(await served(host, port));
      expect(outcomes.filter(Boolean).length).toBeLessThanOrEqual(2);
    } finally {
      await node.stop();
    }
  });
});
