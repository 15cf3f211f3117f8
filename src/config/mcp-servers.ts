// The shape of `mcp.servers` in caxton.yaml: one entry per MCP server the node's agents may be granted. Each
// entry is exactly one kind — a command over stdio, a streamable HTTP URL, or a server built into the node —
// and an entry mixing kinds is refused at start-up rather than guessed at.
import { z } from 'zod';

/** Server names as grants write them (`"tools": {"<server>": [...]}`): the agent spec's pattern. */
export const MCP_SERVER_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** The servers the node carries inside itself (src/tools/builtin-server.ts). */
export const BUILTIN_SERVERS = ['state'] as const;

export interface StdioServerConfig {
  command: string;
  args: readonly string[];
  /** Added to a minimal environment (PATH, HOME, USER, ...): the node's own secrets are not passed on. */
  env: Readonly<Record<string, string>>;
  /** Working directory of the child; default the node's. */
  cwd?: string;
  /** This server's per-call timeout, overriding mcp.call_timeout_ms. */
  timeout_ms?: number;
}

export interface HttpServerConfig {
  url: string;
  headers: Readonly<Record<string, string>>;
  timeout_ms?: number;
}

export interface BuiltinServerConfig {
  builtin: (typeof BUILTIN_SERVERS)[number];
  timeout_ms?: number;
}

export type McpServerConfig = StdioServerConfig | HttpServerConfig | BuiltinServerConfig;

const timeout = z.int({ error: 'expected a positive integer' }).min(1, { error: 'expected a positive integer' }).optional();
const stringMap = z.record(z.string(), z.string({ error: 'expected a string' }), { error: 'expected a mapping of strings' });

const stdio = z.strictObject({
  command: z.string({ error: 'expected a string' }).min(1, { error: 'expected a non-empty command' }),
  args: z.array(z.string({ error: 'expected a string' }), { error: 'expected a list of strings' }).default([]),
  env: stringMap.default({}),
  cwd: z.string({ error: 'expected a string' }).min(1).optional(),
  timeout_ms: timeout,
});

const http = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  headers: stringMap.default({}),
  timeout_ms: timeout,
});

const builtin = z.strictObject({
  builtin: z.enum(BUILTIN_SERVERS, { error: `expected one of ${BUILTIN_SERVERS.join(', ')}` }),
  timeout_ms: timeout,
});

/** One entry: which kind is decided by its one distinguishing key, so the error speaks of that kind. */
const server = z.unknown().transform((value, ctx): McpServerConfig => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'expected a mapping with one of command (stdio), url (streamable HTTP) or builtin' });
    return z.NEVER;
  }
  const kinds = ['command', 'url', 'builtin'].filter((key) => Object.hasOwn(value, key));
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message: kinds.length === 0 ? 'expected one of command (stdio), url (streamable HTTP) or builtin' : `expected only one of ${kinds.join(', ')}`,
    });
    return z.NEVER;
  }
  const schema = kinds[0] === 'command' ? stdio : kinds[0] === 'url' ? http : builtin;
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    ctx.addIssue({ code: 'custom', message: `${issue.path.length > 0 ? issue.path.join('.') + ': ' : ''}${issue.message}` });
    return z.NEVER;
  }
  return parsed.data as McpServerConfig;
});

/** `mcp.servers`: name → server. Read from YAML, or as JSON from CAXTON_MCP_SERVERS. */
export const mcpServersSchema = z.unknown().transform((value, ctx): Record<string, McpServerConfig> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'expected a mapping of server names to servers' });
    return z.NEVER;
  }
  const servers: Array<[string, McpServerConfig]> = [];
  for (const [name, entry] of Object.entries(value)) {
    if (!MCP_SERVER_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', message: `"${name}" is not a valid server name (letters, digits, _ . -; at most 128)` });
      return z.NEVER;
    }
    const parsed = server.safeParse(entry);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `${name}: ${parsed.error.issues[0].message}` });
      return z.NEVER;
    }
    servers.push([name, parsed.data]);
  }
  // fromEntries defines own properties: a server named __proto__ stays a server.
  return Object.fromEntries(servers);
});

export function isStdioServer(config: McpServerConfig): config is StdioServerConfig {
  return 'command' in config;
}

export function isHttpServer(config: McpServerConfig): config is HttpServerConfig {
  return 'url' in config;
}
