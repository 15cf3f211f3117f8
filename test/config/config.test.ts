import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig, redactConfig } from '../../src/config/config.ts';
import { DEFAULTS } from '../../src/config/defaults.ts';
import { FLAG_TO_KEY, SERVER_START_FLAGS } from '../../src/config/flags.ts';
import { parseHostPort } from '../../src/config/host-port.ts';
import { fieldOf } from '../../src/config/schema.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function yamlFile(text: string): string {
  dir = mkdtempSync(join(tmpdir(), 'caxton-config-'));
  const path = join(dir, 'caxton.yaml');
  writeFileSync(path, text);
  return path;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const KEY = Buffer.alloc(32, 7).toString('base64');

describe('loadConfig', () => {
  it('gives every default with no file, env or flags, frozen', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual(DEFAULTS);
    expect(config.node.data_dir).toBe('./.caxton');
    expect(config.api.addr).toBe('127.0.0.1:8080');
    expect(config.cluster.bind_addr).toBe('127.0.0.1:7946');
    expect(config.agents).toMatchObject({ memory_pages: 256, fuel: 10_000_000 });
    // memberlist's LAN timings tuned down so a crash is declared dead within 5 s (cluster.md): see defaults.ts.
    expect(config.gossip).toMatchObject({ probe_interval_ms: 400, probe_timeout_ms: 200, indirect_checks: 3, gossip_interval_ms: 100, gossip_nodes: 3, push_pull_interval_ms: 15_000, suspicion_mult: 5 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.cluster.join)).toBe(true);
    expect(() => ((config.api as { addr: string }).addr = 'x')).toThrow(TypeError);
  });

  it('every default passes its own schema, and every key has a schema', () => {
    for (const [section, keys] of Object.entries(DEFAULTS)) {
      for (const [key, value] of Object.entries(keys)) {
        const field = fieldOf(section, key);
        expect(field, `${section}.${key}`).toBeDefined();
        expect(field!.schema.safeParse(value).success, `${section}.${key}`).toBe(true);
      }
    }
  });

  it('applies flag > env > file > default', () => {
    const file = yamlFile('api:\n  addr: 127.0.0.1:1001\nagents:\n  fuel: 111\n  mailbox: 5\nlog:\n  level: debug\n');
    const config = loadConfig({
      file,
      env: { CAXTON_API_ADDR: '127.0.0.1:1002', CAXTON_AGENTS_FUEL: '222' },
      flags: { apiAddr: '127.0.0.1:1003' },
    });
    expect(config.api.addr).toBe('127.0.0.1:1003'); // flag
    expect(config.agents.fuel).toBe(222); // env over file
    expect(config.agents.mailbox).toBe(5); // file over default
    expect(config.log.level).toBe('debug');
    expect(config.agents.memory_pages).toBe(256); // default
  });

  it('takes the file from flags.config or $CAXTON_CONFIG', () => {
    const file = yamlFile('agents:\n  mailbox: 9\n');
    expect(loadConfig({ env: {}, flags: { config: file } }).agents.mailbox).toBe(9);
    expect(loadConfig({ env: { CAXTON_CONFIG: file } }).agents.mailbox).toBe(9);
  });

  it('reads env numbers (with _ separators), booleans and lists', () => {
    const config = loadConfig({
      env: {
        CAXTON_AGENTS_FUEL: '5_000_000',
        CAXTON_AGENTS_MEMORY_PAGES: ' 64 ',
        CAXTON_CLUSTER_BOOTSTRAP: 'yes',
        CAXTON_AUTH_INSECURE_NO_AUTH: 'TRUE',
        CAXTON_METRICS_PROCESS_METRICS: '0',
        CAXTON_CLUSTER_JOIN: '10.0.0.1:7946, node-2.lan:8000,,[::1]:7000,node-3',
        CAXTON_GOSSIP_PROBE_INTERVAL_MS: '2000',
        CAXTON_NODE_ID: 'n-1',
        CAXTON_LOG_LEVEL: 'warn',
        // Client-side variables and empty ones are not node settings.
        CAXTON_SERVER: 'http://x',
        CAXTON_API_KEY: 'cxk_x',
        CAXTON_NODE_DATA_DIR: '',
        HOME: '/root',
      },
    });
    expect(config.agents.fuel).toBe(5_000_000);
    expect(config.agents.memory_pages).toBe(64);
    expect(config.cluster.bootstrap).toBe(true);
    expect(config.auth.insecure_no_auth).toBe(true);
    expect(config.metrics.process_metrics).toBe(false);
    expect(config.cluster.join).toEqual(['10.0.0.1:7946', 'node-2.lan:8000', '[::1]:7000', 'node-3']);
    expect(config.gossip.probe_interval_ms).toBe(2000);
    expect(config.node.id).toBe('n-1');
    expect(config.node.data_dir).toBe('./.caxton');
    expect(config.log.level).toBe('warn');
  });

  it('maps every server start flag onto a key, from commander options as they come', () => {
    for (const flag of SERVER_START_FLAGS) {
      if (flag.key) expect(fieldOf(...(flag.key.split('.') as [string, string])), flag.flags).toBeDefined();
    }
    const config = loadConfig({
      env: {},
      flags: {
        bootstrap: true,
        bootstrapExpect: '3',
        join: ['127.0.0.1:1,127.0.0.1:2', '127.0.0.1:3'],
        nodeId: 'alpha',
        bindAddr: '127.0.0.1:0',
        apiAddr: '127.0.0.1:0',
        dataDir: '/tmp/x',
        encrypt: KEY,
        insecureNoAuth: true,
        logLevel: 'error',
        server: 'http://ignored', // a global CLI option, not a node key
        'agents.fuel': 7, // a dotted name is a key
      },
    });
    expect(config.cluster).toMatchObject({ bootstrap: true, bootstrap_expect: 3, join: ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3'], bind_addr: '127.0.0.1:0', encrypt: KEY });
    expect(config.node).toEqual({ id: 'alpha', data_dir: '/tmp/x' });
    expect(config.api.addr).toBe('127.0.0.1:0');
    expect(config.auth.insecure_no_auth).toBe(true);
    expect(config.log.level).toBe('error');
    expect(config.agents.fuel).toBe(7);
    expect(FLAG_TO_KEY.get('dataDir')).toBe('node.data_dir');
  });

  it('names an unknown key and where it was written', () => {
    const file = yamlFile('api:\n  adress: 127.0.0.1:1\n');
    expect(errorOf(() => loadConfig({ env: {}, file })).message).toBe(`unknown key api.adress in ${file}`);
    const section = yamlFile('apii:\n  addr: x\n');
    expect(errorOf(() => loadConfig({ env: {}, file: section })).message).toBe(`unknown key apii in ${section}`);
    const env = errorOf(() => loadConfig({ env: { CAXTON_AGENTS_FUELL: '1' } }));
    expect(env.message).toBe('unknown key agents.fuell (env CAXTON_AGENTS_FUELL)');
    expect(errorOf(() => loadConfig({ env: {}, flags: { 'agents.nope': 1 } })).message).toMatch(/unknown key agents\.nope/);
  });

  it('names the key of a bad value, what was expected and where it came from', () => {
    const fuel = errorOf(() => loadConfig({ env: { CAXTON_AGENTS_FUEL: 'lots' } }));
    expect(fuel.message).toBe('agents.fuel: expected a positive integer (env CAXTON_AGENTS_FUEL)');
    expect(fuel.key).toBe('agents.fuel');
    expect(errorOf(() => loadConfig({ env: { CAXTON_AGENTS_FUEL: '0' } })).message).toMatch(/^agents\.fuel: expected a positive integer/);
    expect(errorOf(() => loadConfig({ env: { CAXTON_AGENTS_FUEL: '1.5' } })).message).toMatch(/^agents\.fuel: expected a positive integer/);
    const file = yamlFile('agents:\n  fuel: "100"\n');
    expect(errorOf(() => loadConfig({ env: {}, file })).message).toBe(`agents.fuel: expected a positive integer (in ${file})`);
    expect(errorOf(() => loadConfig({ env: { CAXTON_CLUSTER_BOOTSTRAP: 'maybe' } })).message).toMatch(/^cluster\.bootstrap: expected true or false/);
    expect(errorOf(() => loadConfig({ env: { CAXTON_LOG_LEVEL: 'loud' } })).message).toMatch(/^log\.level: expected one of trace/);
    expect(errorOf(() => loadConfig({ env: {}, file: yamlFile('- a\n- b\n') })).message).toMatch(/expected a mapping of sections/);
    expect(errorOf(() => loadConfig({ env: {}, file: yamlFile('api: [1\n') })).message).toMatch(/not valid YAML/);
    expect(errorOf(() => loadConfig({ env: {}, file: '/nonexistent/caxton.yaml' })).message).toMatch(/cannot read the configuration file/);
  });

  it('validates HOST:PORT forms with the key named', () => {
    for (const bad of ['8080', 'localhost', '127.0.0.1:', '127.0.0.1:99999', 'exa mple:80', '::1:80', 'host:port']) {
      expect(errorOf(() => loadConfig({ env: {}, flags: { apiAddr: bad } })).message).toBe(
        `api.addr: expected HOST:PORT, got '${bad}' (flag --api-addr)`,
      );
    }
    expect(errorOf(() => loadConfig({ env: {}, flags: { join: 'ok:1,bad host' } })).message).toMatch(/^cluster\.join: expected HOST:PORT, got 'bad host'/);
    expect(loadConfig({ env: {}, flags: { bindAddr: '[::1]:7946' } }).cluster.bind_addr).toBe('[::1]:7946');
    expect(parseHostPort('node-1.lan:7946')).toEqual({ host: 'node-1.lan', port: 7946 });
    expect(parseHostPort('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseHostPort('node-3', 7946)).toEqual({ host: 'node-3', port: 7946 });
    expect(parseHostPort('node-3')).toBeNull();
  });

  it('accepts a gossip key of 16, 24 or 32 bytes only', () => {
    for (const n of [16, 24, 32]) {
      const key = Buffer.alloc(n, 1).toString('base64');
      expect(loadConfig({ env: {}, flags: { encrypt: key } }).cluster.encrypt).toBe(key);
    }
    expect(errorOf(() => loadConfig({ env: {}, flags: { encrypt: Buffer.alloc(20).toString('base64') } })).message).toBe(
      'cluster.encrypt: expected a base64 key of 16, 24 or 32 bytes, got 20 bytes (flag --encrypt)',
    );
    expect(errorOf(() => loadConfig({ env: { CAXTON_CLUSTER_ENCRYPT: 'not base64!' } })).message).toMatch(
      /^cluster\.encrypt: expected a base64 key of 16, 24 or 32 bytes, got text that is not base64/,
    );
  });

  it('refuses --insecure-no-auth unless the API binds to loopback', () => {
    for (const addr of ['127.0.0.1:8080', '127.1.2.3:1', 'localhost:8080', '[::1]:8080']) {
      expect(loadConfig({ env: {}, flags: { insecureNoAuth: true, apiAddr: addr } }).auth.insecure_no_auth).toBe(true);
    }
    for (const addr of ['0.0.0.0:8080', '10.0.0.5:8080', 'example.com:80', '[::]:8080']) {
      const error = errorOf(() => loadConfig({ env: {}, flags: { insecureNoAuth: true, apiAddr: addr } }));
      expect(error.key).toBe('auth.insecure_no_auth');
      expect(error.message).toContain(`api.addr ${addr} is not a loopback address`);
    }
    // The same rule whichever layer set either key.
    const file = yamlFile('api:\n  addr: 0.0.0.0:8080\n');
    expect(() => loadConfig({ file, env: { CAXTON_AUTH_INSECURE_NO_AUTH: 'true' } })).toThrow(ConfigError);
  });

  it('checks rules across keys', () => {
    expect(errorOf(() => loadConfig({ env: { CAXTON_GOSSIP_PROBE_TIMEOUT_MS: '1000' } })).key).toBe('gossip.probe_timeout_ms');
  });

  it('routing: its keys load, unknown ones are refused (the routing address is the gossip address, not a key)', () => {
    expect(errorOf(() => loadConfig({ env: { CAXTON_ROUTING_CA_FILE: '/ca.pem' } })).message).toBe('unknown key routing.ca_file (env CAXTON_ROUTING_CA_FILE)');
    expect(errorOf(() => loadConfig({ env: {}, file: yamlFile('routing:\n  addr: 127.0.0.1:7947\n') })).key).toBe('routing.addr');
    const config = loadConfig({ env: { CAXTON_ROUTING_COMPRESS: 'true' }, flags: { tlsDir: '/pki/n1', token: 'caxton-join-v1.x.y' } });
    expect(config.routing).toMatchObject({ tls_dir: '/pki/n1', compress: true, queue_max_messages: 10_000 });
    expect(config.cluster.token).toBe('caxton-join-v1.x.y');
  });

  it('JWT keys: an issuer needs exactly one of secret and JWKS URL; the others need an issuer', () => {
    const SECRET = 'x'.repeat(32);
    const ok = loadConfig({ env: { CAXTON_AUTH_JWT_ISSUER: 'https://idp', CAXTON_AUTH_JWT_SECRET: SECRET } });
    expect(ok.auth).toMatchObject({ jwt_issuer: 'https://idp', jwt_secret: SECRET, jwt_role_claim: 'caxton_role' });
    const jwks = loadConfig({ env: { CAXTON_AUTH_JWT_ISSUER: 'i', CAXTON_AUTH_JWT_JWKS_URL: 'http://127.0.0.1:9/jwks', CAXTON_AUTH_JWT_ROLE_CLAIM: 'role' } });
    expect(jwks.auth).toMatchObject({ jwt_jwks_url: 'http://127.0.0.1:9/jwks', jwt_role_claim: 'role' });

    const neither = errorOf(() => loadConfig({ env: { CAXTON_AUTH_JWT_ISSUER: 'i' } }));
    expect(neither.key).toBe('auth.jwt_issuer');
    expect(neither.message).toMatch(/exactly one of auth\.jwt_secret .* and auth\.jwt_jwks_url .*got neither/);
    const both = errorOf(() => loadConfig({ env: { CAXTON_AUTH_JWT_ISSUER: 'i', CAXTON_AUTH_JWT_SECRET: SECRET, CAXTON_AUTH_JWT_JWKS_URL: 'http://h/j' } }));
    expect([both.key, both.message]).toEqual(['auth.jwt_issuer', expect.stringMatching(/not both$/)]);
    for (const [env, key] of [
      ['CAXTON_AUTH_JWT_SECRET', 'auth.jwt_secret'],
      ['CAXTON_AUTH_JWT_JWKS_URL', 'auth.jwt_jwks_url'],
      ['CAXTON_AUTH_JWT_AUDIENCE', 'auth.jwt_audience'],
    ]) {
      const error = errorOf(() => loadConfig({ env: { [env]: env.endsWith('URL') ? 'http://h/j' : SECRET } }));
      expect([error.key, error.message]).toEqual([key, expect.stringContaining('only accepted once auth.jwt_issuer is set')]);
    }
    expect(errorOf(() => loadConfig({ env: { CAXTON_AUTH_JWT_ISSUER: 'i', CAXTON_AUTH_JWT_SECRET: 'short' } })).message).toMatch(
      /^auth\.jwt_secret: expected at least 32 characters/,
    );
    expect(errorOf(() => loadConfig({ env: { CAXTON_AUTH_JWT_ISSUER: 'i', CAXTON_AUTH_JWT_JWKS_URL: 'file:///etc/keys' } })).key).toBe('auth.jwt_jwks_url');
  });

  it('redacts secrets for logging', () => {
    const config = loadConfig({ env: { CAXTON_AUTH_JWT_ISSUER: 'i', CAXTON_AUTH_JWT_SECRET: 's3cret'.repeat(6) }, flags: { encrypt: KEY } });
    const safe = redactConfig(config);
    expect(safe.cluster.encrypt).toBe('<redacted>');
    expect(safe.auth.jwt_secret).toBe('<redacted>');
    expect(config.cluster.encrypt).toBe(KEY);
    expect(JSON.stringify(safe)).not.toContain('s3cret');
  });
});
