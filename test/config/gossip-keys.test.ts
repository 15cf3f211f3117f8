// The gossip port's bounds and the delegate versions are settings: read from env (and YAML), checked, and
// turned into what the transport and membership use.
import { describe, expect, it } from 'vitest';
import { membershipConfigFrom } from '../../src/cluster/gossip-config.ts';
import { DEFAULT_VSN, MEMBERLIST_VSN } from '../../src/cluster/membership/config.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig } from '../../src/config/config.ts';

describe('gossip settings added for issue 9 and 10', () => {
  it('have their defaults and are read from the environment', () => {
    const defaults = loadConfig({ env: {} }).gossip;
    expect(defaults).toMatchObject({
      tcp_max_connections: 64,
      tcp_max_stream_bytes: 16 * 1024 * 1024,
      tcp_stream_budget_bytes: 64 * 1024 * 1024,
      tcp_header_timeout_ms: 2000,
      delegate_versions: 'serf',
    });
    const set = loadConfig({
      env: {
        CAXTON_GOSSIP_TCP_MAX_CONNECTIONS: '8',
        CAXTON_GOSSIP_TCP_MAX_STREAM_BYTES: '1048576',
        CAXTON_GOSSIP_TCP_STREAM_BUDGET_BYTES: '0',
        CAXTON_GOSSIP_TCP_HEADER_TIMEOUT_MS: '500',
        CAXTON_GOSSIP_DELEGATE_VERSIONS: 'memberlist',
      },
    }).gossip;
    expect(set).toMatchObject({ tcp_max_connections: 8, tcp_max_stream_bytes: 1048576, tcp_stream_budget_bytes: 0, tcp_header_timeout_ms: 500, delegate_versions: 'memberlist' });
  });

  it('refuses values that would configure nothing sensible', () => {
    expect(() => loadConfig({ env: { CAXTON_GOSSIP_DELEGATE_VERSIONS: 'consul' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { CAXTON_GOSSIP_TCP_MAX_CONNECTIONS: '0' } })).toThrow(ConfigError);
    expect(() => loadConfig({ env: { CAXTON_GOSSIP_TCP_MAX_STREAM_BYTES: '1000' } })).toThrow(ConfigError);
  });

  it('delegate_versions picks the version vector presented in alive messages', () => {
    const serf = membershipConfigFrom(loadConfig({ env: {} }).gossip);
    const plain = membershipConfigFrom(loadConfig({ env: { CAXTON_GOSSIP_DELEGATE_VERSIONS: 'memberlist' } }).gossip);
    expect(serf.vsn).toEqual(DEFAULT_VSN);
    expect(plain.vsn).toEqual(MEMBERLIST_VSN);
  });
});
