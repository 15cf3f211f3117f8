// The node's tool gateway: the runtime's one view of MCP (ToolGateway). It finds the configured server,
// holds the bounds on calls in flight (per server, per agent) and the per-call timeout, and leaves each
// connection to start, restart and cache its tools. Every outcome is a CallToolResult or a CaxtonError whose
// code the agent receives in its `failure`.
import { CaxtonError } from '../errors.ts';
import { MAX_CONTENT_DEPTH, nestedDeeperThan } from '../messaging/message.ts';
import { isStdioServer, isHttpServer, type McpServerConfig } from '../config/mcp-servers.ts';
import type { ToolGateway } from '../agents/tool-gateway.ts';
import { BuiltinConnection } from './builtin-connection.ts';
import type { BuiltinToolServer } from './builtin-server.ts';
import { McpServerConnection, type ConnectionLogger } from './mcp-server-connection.ts';
import type { ToolServerView } from './tool-server-view.ts';

export interface ToolGatewayOptions {
  servers: Readonly<Record<string, McpServerConfig>>;
  callTimeoutMs: number;
  maxResultBytes: number;
  maxCallsPerServer: number;
  maxCallsPerAgent: number;
  startTimeoutMs: number;
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
  /** Openers of the built-in servers this build has, by `builtin:` name; each runs once, on first call. */
  builtins: Readonly<Record<string, () => Promise<BuiltinToolServer>>>;
  logger: ConnectionLogger;
}

type Connection = McpServerConnection | BuiltinConnection;

export class McpToolGateway implements ToolGateway {
  readonly #connections = new Map<string, { connection: Connection; timeoutMs: number }>();
  readonly #agentCalls = new Map<string, number>();

  constructor(private readonly options: ToolGatewayOptions) {
    for (const [name, config] of Object.entries(options.servers)) {
      const timeoutMs = config.timeout_ms ?? options.callTimeoutMs;
      let connection: Connection;
      if (isStdioServer(config) || isHttpServer(config)) {
        connection = new McpServerConnection(name, config, options, options.logger);
      } else {
        connection = new BuiltinConnection(name, config.builtin, options.builtins[config.builtin], options.maxResultBytes);
      }
      this.#connections.set(name, { connection, timeoutMs });
    }
  }

  async call(agent: string, server: string, tool: string, args: Record<string, unknown>): Promise<unknown> {
    const entry = this.#connections.get(server);
    if (!entry) throw new CaxtonError('UNAVAILABLE', `MCP server "${server}" is not configured on this node (mcp.servers)`, { server });
    const { connection, timeoutMs } = entry;
    if (connection.callsInFlight >= this.options.maxCallsPerServer) {
      throw new CaxtonError('QUOTA_EXCEEDED', `MCP server "${server}" already has ${connection.callsInFlight} calls in flight (mcp.max_calls_per_server)`, { server });
    }
    const mine = this.#agentCalls.get(agent) ?? 0;
    if (mine >= this.options.maxCallsPerAgent) {
      throw new CaxtonError('QUOTA_EXCEEDED', `agent "${agent}" already has ${mine} tool calls in flight (mcp.max_calls_per_agent)`, { agent });
    }
    connection.callsInFlight++;
    this.#agentCalls.set(agent, mine + 1);
    try {
      const result = connection instanceof BuiltinConnection ? await connection.call(agent, tool, args, timeoutMs) : await connection.call(tool, args, timeoutMs);
      // The result becomes a message's content, bounded in depth at every entry: deeper, it would overflow the
      // serializers' stacks, and on its way to an agent worker it was lost with the whole batch it travelled in.
      if (nestedDeeperThan(result, MAX_CONTENT_DEPTH)) {
        throw new CaxtonError('TOOL_ERROR', `${server}/${tool} answered a result nested deeper than ${MAX_CONTENT_DEPTH} levels of objects and arrays`, { server, tool });
      }
      return result;
    } finally {
      connection.callsInFlight--;
      const left = (this.#agentCalls.get(agent) ?? 1) - 1;
      if (left > 0) this.#agentCalls.set(agent, left);
      else this.#agentCalls.delete(agent);
    }
  }

  /** Every configured server (or the one named), its status and cached tools. */
  list(server?: string): ToolServerView[] {
    if (server !== undefined) {
      const entry = this.#connections.get(server);
      if (!entry) throw new CaxtonError('NOT_FOUND', `no MCP server named "${server}" in mcp.servers`, { server });
      return [entry.connection.view()];
    }
    return [...this.#connections.values()].map(({ connection }) => connection.view()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Stops every server this node started (children get stdin closed, then SIGTERM, then SIGKILL). */
  async close(): Promise<void> {
    await Promise.all([...this.#connections.values()].map(({ connection }) => connection.close().catch(() => {})));
  }
}

/** The gateway for a node's `mcp:` section. */
export function toolGatewayFor(
  mcp: {
    readonly servers: Readonly<Record<string, McpServerConfig>>;
    readonly call_timeout_ms: number;
    readonly max_result_bytes: number;
    readonly max_calls_per_server: number;
    readonly max_calls_per_agent: number;
    readonly start_timeout_ms: number;
    readonly restart_backoff_ms: number;
    readonly restart_backoff_max_ms: number;
  },
  builtins: ToolGatewayOptions['builtins'],
  logger: ConnectionLogger,
): McpToolGateway {
  return new McpToolGateway({
    // The built-in state server is always there under its own name (it opens nothing until first called, and
    // grants decide who may use it); an operator's own entry named `state` takes its place.
    servers: { state: { builtin: 'state' }, ...mcp.servers },
    callTimeoutMs: mcp.call_timeout_ms,
    maxResultBytes: mcp.max_result_bytes,
    maxCallsPerServer: mcp.max_calls_per_server,
    maxCallsPerAgent: mcp.max_calls_per_agent,
    startTimeoutMs: mcp.start_timeout_ms,
    restartBackoffMs: mcp.restart_backoff_ms,
    restartBackoffMaxMs: mcp.restart_backoff_max_ms,
    builtins,
    logger,
  });
}
