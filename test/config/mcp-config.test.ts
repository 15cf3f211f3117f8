// The `mcp:` section of caxton.yaml: server entries of each kind, and the errors that name what is wrong.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, redactConfig } from '../../src/config/config.ts';
import { ConfigError } from '../../src/config/config-error.ts';

function fromYaml(text: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'caxton-mcp-config-')), 'caxton.yaml');
  writeFileSync(file, text);
  return loadConfig({ env: {}, file });
}

function errorOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('mcp.servers', () => {
  it('reads the example of tools.md: builtin, stdio with args and env, streamable HTTP', () => {
    const config = fromYaml(`
mcp:
  call_timeout_ms: 5000
  servers:
    state:
      builtin: state
    memory:
      command: npx
      args: ["@modelcontextprotocol/server-memory"]
      env: {MEMORY_FILE_PATH: /var/lib/caxton/memory.jsonl}
    search:
      url: http://127.0.0.1:9000/mcp
      headers: {Authorization: Bearer abc}
      timeout_ms: 1000
`);
    expect(config.mcp.call_timeout_ms).toBe(5000);
    expect(config.mcp.servers).toEqual({
      state: { builtin: 'state' },
      memory: { command: 'npx', args: ['@modelcontextprotocol/server-memory'], env: { MEMORY_FILE_PATH: '/var/lib/caxton/memory.jsonl' } },
      search: { url: 'http://127.0.0.1:9000/mcp', headers: { Authorization: 'Bearer abc' }, timeout_ms: 1000 },
    });
  });

  it('defaults: no servers configured, 30 s per call, 1 MiB results', () => {
    const config = loadConfig({ env: {} });
    expect(config.mcp.servers).toEqual({});
    expect(config.mcp.call_timeout_ms).toBe(30_000);
    expect(config.mcp.max_result_bytes).toBe(1024 * 1024);
  });

  it('takes JSON from CAXTON_MCP_SERVERS', () => {
    const config = loadConfig({ env: { CAXTON_MCP_SERVERS: '{"web": {"url": "https://example.com/mcp"}}' } });
    expect(config.mcp.servers).toEqual({ web: { url: 'https://example.com/mcp', headers: {} } });
  });

  it('refuses an entry of two kinds, of none, a bad URL, an unknown key and an unknown builtin, naming the server', () => {
    expect(errorOf(() => fromYaml('mcp:\n  servers:\n    x: {command: a, url: "http://b"}\n'))).toMatch(/mcp\.servers: x: expected only one of command, url/);
    expect(errorOf(() => fromYaml('mcp:\n  servers:\n    x: {args: [a]}\n'))).toMatch(/x: expected one of command/);
    expect(errorOf(() => fromYaml('mcp:\n  servers:\n    x: {url: "ftp://b"}\n'))).toMatch(/x: url: expected an http\(s\) URL/);
    expect(errorOf(() => fromYaml('mcp:\n  servers:\n    x: {command: a, enviroment: {}}\n'))).toMatch(/x: .*enviroment/);
    expect(errorOf(() => fromYaml('mcp:\n  servers:\n    x: {builtin: vault}\n'))).toMatch(/x: builtin: expected one of state/);
    expect(errorOf(() => fromYaml('mcp:\n  servers:\n    "bad name": {command: a}\n'))).toMatch(/not a valid server name/);
    expect(errorOf(() => loadConfig({ env: { CAXTON_MCP_SERVERS: 'not json' } }))).toMatch(/CAXTON_MCP_SERVERS/);
  });

  it('keeps env and headers out of logs', () => {
    const config = fromYaml('mcp:\n  servers:\n    web: {url: "http://b", headers: {Authorization: secret}}\n');
    expect(JSON.stringify(redactConfig(config))).not.toContain('secret');
  });
});
