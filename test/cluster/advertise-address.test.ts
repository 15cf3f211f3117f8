import { describe, expect, it } from 'vitest';
import { advertiseAddressOf } from '../../src/cluster/advertise-address.ts';

describe('cluster.advertise_addr', () => {
  it('keeps an IP as it is, without a lookup', async () => {
    const resolve = () => Promise.reject(new Error('no lookup expected'));
    await expect(advertiseAddressOf('10.0.0.7:7946', resolve)).resolves.toEqual({ host: '10.0.0.7', port: 7946 });
    await expect(advertiseAddressOf('[fd00::7]:7946', resolve)).resolves.toEqual({ host: 'fd00::7', port: 7946 });
  });

  it('resolves a host name to the IP its peers are told (they refuse names)', async () => {
    const asked: string[] = [];
    const resolve = async (host: string) => {
      asked.push(host);
      return { address: '10.0.0.8' };
    };
    await expect(advertiseAddressOf('node-8.lan:7000', resolve)).resolves.toEqual({ host: '10.0.0.8', port: 7000 });
    expect(asked).toEqual(['node-8.lan']);
    await expect(advertiseAddressOf('localhost:7946')).resolves.toMatchObject({ port: 7946, host: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) });
  });

  it('names the setting when the name does not resolve or the text is not HOST:PORT', async () => {
    const resolve = () => Promise.reject(new Error('getaddrinfo ENOTFOUND nowhere.invalid'));
    await expect(advertiseAddressOf('nowhere.invalid:7946', resolve)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'cluster.advertise_addr' } });
    await expect(advertiseAddressOf('no port here')).rejects.toMatchObject({ details: { field: 'cluster.advertise_addr' } });
  });
});
