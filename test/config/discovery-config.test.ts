// The discovery settings: `--cluster [NAME]` (cluster.discover), its interval, and --join by DNS name.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig } from '../../src/config/config.ts';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { DEFAULT_CLUSTER_NAME, FLAG_TO_KEY } from '../../src/config/flags.ts';

describe('discovery configuration', () => {
  it('is off by default, polling as Serf does once on', () => {
    expect(DEFAULTS.cluster.discover).toBeUndefined();
    expect(DEFAULTS.cluster.discover_interval_ms).toBe(60_000);
    expect(DEFAULT_CLUSTER_NAME).toBe('caxton');
  });

  it('--cluster NAME sets cluster.discover; env and file use the key', () => {
    expect(FLAG_TO_KEY.get('cluster')).toBe('cluster.discover');
    expect(loadConfig({ flags: { cluster: 'prod' }, env: {} }).cluster.discover).toBe('prod');
    expect(loadConfig({ env: { CAXTON_CLUSTER_DISCOVER: 'edge_1' } }).cluster.discover).toBe('edge_1');
    expect(loadConfig({ env: { CAXTON_CLUSTER_DISCOVER_INTERVAL_MS: '5000' } }).cluster.discover_interval_ms).toBe(5000);
  });

  it('refuses a name that cannot be one DNS label after `_serf_`', () => {
    for (const bad of ['', 'has space', 'dot.ted', '-lead', 'x'.repeat(58), 'é']) {
      expect(() => loadConfig({ flags: { cluster: bad }, env: {} }), bad).toThrow(ConfigError);
    }
    expect(loadConfig({ flags: { cluster: 'x'.repeat(57) }, env: {} }).cluster.discover).toHaveLength(57);
    expect(() => loadConfig({ flags: { cluster: true }, env: {} })).toThrow(/cluster.discover/);
  });

  it('refuses a query interval under one second (RFC 6762)', () => {
    expect(() => loadConfig({ env: { CAXTON_CLUSTER_DISCOVER_INTERVAL_MS: '999' } })).toThrow(/cluster.discover_interval_ms/);
  });

  it('--join takes DNS names, with or without a port', () => {
    const config = loadConfig({ flags: { join: 'caxton-headless.default.svc.cluster.local,localhost:7000' }, env: {} });
    expect(config.cluster.join).toEqual(['caxton-headless.default.svc.cluster.local', 'localhost:7000']);
  });
});
