// The state.* keys of the state tool's backend: checked at load, the URL a secret.
import { describe, expect, it } from 'vitest';
import { loadConfig, redactConfig } from '../../src/config/config.ts';

describe('state backend configuration', () => {
  it('defaults to the node\'s SQLite', () => {
    const config = loadConfig({ env: {} });
    expect(config.state.backend).toBe('sqlite');
    expect(config.state.postgres_url).toBeUndefined();
    expect(config.state.postgres_pool_max).toBe(10);
  });

  it('takes postgres from the environment, and keeps the URL out of logs', () => {
    const config = loadConfig({ env: { CAXTON_STATE_BACKEND: 'postgres', CAXTON_STATE_POSTGRES_URL: 'postgres://u:secret@db:5432/caxton', CAXTON_STATE_POSTGRES_POOL_MAX: '4' } });
    expect(config.state).toMatchObject({ backend: 'postgres', postgres_url: 'postgres://u:secret@db:5432/caxton', postgres_pool_max: 4 });
    expect(JSON.stringify(redactConfig(config))).not.toContain('secret');
  });

  it('refuses postgres without a URL, a URL of another scheme, and an unknown backend, naming the key', () => {
    expect(() => loadConfig({ env: { CAXTON_STATE_BACKEND: 'postgres' } })).toThrow(/^state\.backend: postgres needs state\.postgres_url/);
    expect(() => loadConfig({ env: { CAXTON_STATE_POSTGRES_URL: 'mysql://db/x' } })).toThrow(/^state\.postgres_url: expected a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(() => loadConfig({ env: { CAXTON_STATE_BACKEND: 'redis' } })).toThrow(/^state\.backend: expected sqlite or postgres/);
    expect(() => loadConfig({ env: { CAXTON_STATE_POSTGRES_POOL_MAX: '0' } })).toThrow(/^state\.postgres_pool_max: expected a positive integer/);
  });
});
