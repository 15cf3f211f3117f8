// One configured MCP server reached through the SDK's client, over stdio or streamable HTTP: started on the
// first call, shared by every agent of the node, started again (after a backoff) on the call after it went
// away, its tool list cached and refreshed when the server says it changed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { CaxtonError, describeError } from '../errors.ts';
import { isStdioServer, type HttpServerConfig, type StdioServerConfig } from '../config/mcp-servers.ts';
import { callFailure, clipped, tooLarge, toolReportedError } from './call-failure.ts';
import { restartDelayMs } from './restart-backoff.ts';
import { postDeadlineFetch } from './post-deadline-fetch.ts';
import { sizeLimitedFetch } from './size-limited-fetch.ts';
import type { ToolServerStatus, ToolServerView } from './tool-server-view.ts';

export interface ConnectionLimits {
  /** A call's timeout when the server's entry gives none (mcp.call_timeout_ms). */
  callTimeoutMs: number;
  maxResultBytes: number;
  startTimeoutMs: number;
  restartBackoffMs: number;
  restartBackoffMaxMs: number;
}

export interface ConnectionLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** An HTTP response outlives the longest timeout of its request by at most this before it is aborted. */
const RESPONSE_GRACE_MS = 1_000;
/** Room for the JSON-RPC envelope around a result at the size limit. */
const FRAMING_BYTES = 64 * 1024;
/** The tail of a stdio server's stderr kept to explain why it exited. */
const STDERR_TAIL_BYTES = 2048;
/** Tools kept from a server's list: far above any real server, and a bound on what one can make us hold. */
const MAX_TOOLS = 10_000;
/** A call naming a tool not in the cache refreshes the list at most this often (a typo must not flood the server). */
const UNKNOWN_TOOL_REFRESH_MS = 5_000;
/** Pages of one tools/list read at most: a server naming a next cursor for ever must not keep us reading. */
const MAX_TOOL_PAGES = 100;
/** Longest tool name kept (MCP advises at most 128): a longer one cannot be granted, so it is left out. */
const MAX_TOOL_NAME_CHARS = 256;
/** A cached description is clipped here: it is shown to operators, and 10,000 of them stay ~20 MB at most. */
const MAX_TOOL_DESCRIPTION_CHARS = 2048;

/** What is kept of a listed tool: its name to check calls against, and its description to show. */
type CachedTool = Pick<Tool, 'name' | 'description'>;

/**
 * Accepts any structuredContent. The SDK would otherwise compile each listed tool's outputSchema (with ajv)
 * and check every result against it on the node's event loop: a server's schema with a backtracking
 * pattern (`^(a|a)+$`) then blocks the whole node (6 s for 25 characters, measured; exponential beyond).
 * The result goes to the agent as it is, so checking it against its own server's schema protects nothing.
 */
const acceptAnyOutput: jsonSchemaValidator = {
  getValidator: () => (input) => ({ valid: true, data: input as never, errorMessage: undefined }),
};

/** One connection's life: set when it is made, so a late event of an old one cannot touch the next. */
interface Session {
  client: Client;
  transport: Transport;
  /** Why it ended, when it ended on its own. */
  closedBecause: 'TOO_LARGE' | 'SERVER_EXITED' | undefined;
  stderrTail: string;
}

export class McpServerConnection {
  #status: ToolServerStatus = 'not_started';
  #session: Session | undefined;
  #starting: Promise<Session> | undefined;
  #tools = new Map<string, CachedTool>();
  #lastError: string | null = null;
  /** Consecutive exits or failed starts; reset by a call that succeeds. */
  #failures = 0;
  #retryAt = 0;
  #starts = 0;
  #lastToolRefresh = 0;
  #closed = false;
  callsInFlight = 0;

  constructor(
    readonly name: string,
    private readonly config: StdioServerConfig | HttpServerConfig,
    private readonly limits: ConnectionLimits,
    private readonly logger: ConnectionLogger,
  ) {}

  get kind(): 'stdio' | 'http' {
    return isStdioServer(this.config) ? 'stdio' : 'http';
  }

  view(): ToolServerView {
    const transport = this.#session?.transport;
    return {
      name: this.name,
      kind: this.kind,
      status: this.#status,
      last_error: this.#lastError,
      retry_at: this.#status === 'restarting' ? new Date(this.#retryAt).toISOString() : null,
      restarts: Math.max(0, this.#starts - 1),
      calls_in_flight: this.callsInFlight,
      pid: transport instanceof StdioClientTransport ? transport.pid : null,
      tools: [...this.#tools.values()].map((t) => ({ name: t.name, ...(t.description !== undefined ? { description: t.description } : {}) })),
    };
  }

  async call(tool: string, args: Record<string, unknown>, timeoutMs: number): Promise<CallToolResult> {
    const session = await this.#ready(timeoutMs);
    if (!this.#tools.has(tool)) await this.#refreshForUnknown(session, timeoutMs);
    if (!this.#tools.has(tool)) {
      throw new CaxtonError('UNKNOWN_TOOL', `MCP server "${this.name}" has no tool "${tool}"`, { server: this.name, tool });
    }
    let result: CallToolResult;
    try {
      result = (await session.client.callTool({ name: tool, arguments: args }, undefined, { timeout: timeoutMs })) as CallToolResult;
    } catch (error) {
      const failure = callFailure(error, {
        server: this.name,
        tool,
        timeoutMs,
        closedBecause: session.closedBecause ?? (this.#session === session ? undefined : 'SERVER_EXITED'),
        maxResultBytes: this.limits.maxResultBytes,
      });
      // Over HTTP, an error that is not the server's JSON-RPC answer (refused, reset, session gone) means the
      // session is no longer usable: the next call opens a new one, after the backoff.
      if (!(error instanceof McpError) && !isStdioServer(this.config) && this.#session === session) {
        this.#session = undefined;
        this.#failed(`the connection failed: ${messageOf(error)}`);
        void session.client.close().catch(() => {});
      }
      throw failure;
    }
    if (Buffer.byteLength(JSON.stringify(result)) > this.limits.maxResultBytes) {
      throw tooLarge({ server: this.name, tool, maxResultBytes: this.limits.maxResultBytes });
    }
    this.#failures = 0;
    if (result.isError === true) throw toolReportedError(this.name, tool, result);
    return result;
  }

  /** The running session, starting one if needed (after the backoff, when the last one failed). */
  async #ready(timeoutMs: number): Promise<Session> {
    if (this.#closed) throw new CaxtonError('UNAVAILABLE', `MCP server "${this.name}" is closed (the node is stopping)`, { server: this.name });
    if (this.#session) return this.#session;
    if (this.#starting) return this.#starting;
    const wait = this.#retryAt - Date.now();
    if (wait > 0) {
      if (wait >= timeoutMs) {
        throw new CaxtonError(
          'UNAVAILABLE',
          clipped(`MCP server "${this.name}" is restarting (next start in ${wait} ms); last error: ${this.#lastError ?? 'none'}`),
          { server: this.name, retry_in_ms: wait },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      return this.#ready(timeoutMs - wait);
    }
    this.#starting = this.#start().finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  async #start(): Promise<Session> {
    this.#status = 'starting';
    this.#starts++;
    const session = this.#newSession();
    const timeout = setTimeout(() => void session.client.close().catch(() => {}), this.limits.startTimeoutMs);
    try {
      await session.client.connect(session.transport, { timeout: this.limits.startTimeoutMs });
      await this.#listTools(session, this.limits.startTimeoutMs);
    } catch (error) {
      clearTimeout(timeout);
      void session.client.close().catch(() => {});
      const reason = session.stderrTail ? `${messageOf(error)}; stderr: ${session.stderrTail.trim()}` : messageOf(error);
      this.#failed(`cannot start: ${reason}`);
      throw new CaxtonError('UNAVAILABLE', clipped(`MCP server "${this.name}" ${this.#lastError}`), { server: this.name });
    }
    clearTimeout(timeout);
    if (this.#closed) {
      void session.client.close().catch(() => {});
      throw new CaxtonError('UNAVAILABLE', `MCP server "${this.name}" is closed (the node is stopping)`, { server: this.name });
    }
    this.#session = session;
    this.#status = 'running';
    const pid = session.transport instanceof StdioClientTransport ? session.transport.pid : undefined;
    this.logger.info({ server: this.name, kind: this.kind, pid, tools: this.#tools.size }, 'MCP server started');
    return session;
  }

  #newSession(): Session {
    const client = new Client(
      { name: 'caxton', version: '1' },
      {
        jsonSchemaValidator: acceptAnyOutput,
        listChanged: {
          tools: {
            onChanged: (error, tools) => {
              if (error) this.logger.warn({ server: this.name, err: error }, 'refreshing the MCP tool list failed');
              else if (tools) this.#cacheTools(tools);
            },
          },
        },
      },
    );
    const session: Session = { client, transport: undefined as unknown as Transport, closedBecause: undefined, stderrTail: '' };
    const hardLimit = this.limits.maxResultBytes + FRAMING_BYTES;
    if (isStdioServer(this.config)) {
      const transport = new StdioClientTransport({
        command: this.config.command,
        args: [...this.config.args],
        env: { ...this.config.env },
        ...(this.config.cwd !== undefined ? { cwd: this.config.cwd } : {}),
        stderr: 'pipe',
        maxBufferSize: hardLimit,
      });
      transport.stderr?.on('data', (chunk: Buffer) => {
        session.stderrTail = (session.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
      });
      session.transport = transport;
    } else {
      session.transport = new StreamableHTTPClientTransport(new URL(this.config.url), {
        requestInit: { headers: { ...this.config.headers } },
        fetch: sizeLimitedFetch(
          hardLimit,
          () => {
            session.closedBecause = 'TOO_LARGE';
            void client.close().catch(() => {});
          },
          // No POST's answer is awaited longer than a call's timeout or a start's: a response still open after
          // that serves nobody and only holds a socket.
          postDeadlineFetch(Math.max(this.config.timeout_ms ?? this.limits.callTimeoutMs, this.limits.startTimeoutMs) + RESPONSE_GRACE_MS),
        ),
        // A dropped notification stream is reopened by the next call, not retried in the background.
        reconnectionOptions: { maxReconnectionDelay: 30_000, initialReconnectionDelay: 1_000, reconnectionDelayGrowFactor: 2, maxRetries: 0 },
      });
    }
    client.onerror = (error) => {
      // The stdio transport's only hint that a line outgrew maxBufferSize; it closes the process right after.
      if (/exceeded maximum size/.test(error.message)) session.closedBecause = 'TOO_LARGE';
    };
    client.onclose = () => this.#ended(session);
    return session;
  }

  /** A session went away by itself (the process exited, a too-large answer, the HTTP session dropped). */
  #ended(session: Session): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    if (this.#closed) return;
    session.closedBecause ??= 'SERVER_EXITED';
    const why = session.closedBecause === 'TOO_LARGE' ? `an answer exceeded ${this.limits.maxResultBytes} bytes` : 'the server exited';
    this.#failed(session.stderrTail ? `${why}; stderr: ${session.stderrTail.trim()}` : why);
    this.logger.warn({ server: this.name, error: this.#lastError, retry_in_ms: this.#retryAt - Date.now() }, 'MCP server stopped; it starts again on the next call');
  }

  #failed(reason: string): void {
    this.#failures++;
    this.#lastError = clipped(reason);
    this.#retryAt = Date.now() + restartDelayMs(this.#failures, this.limits.restartBackoffMs, this.limits.restartBackoffMaxMs);
    this.#status = 'restarting';
  }

  /** Every page of the list within `withinMs` in all (each page alone is bounded by the line/response limit). */
  async #listTools(session: Session, withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    const tools: CachedTool[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`tools/list did not finish within ${withinMs} ms (${pages} pages read)`);
      const page = await session.client.listTools(cursor === undefined ? {} : { cursor }, { timeout: left });
      tools.push(...compactTools(page.tools.slice(0, MAX_TOOLS - tools.length)));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined && tools.length < MAX_TOOLS && pages < MAX_TOOL_PAGES);
    this.#lastToolRefresh = Date.now();
    this.#cacheTools(tools);
  }

  #cacheTools(tools: CachedTool[]): void {
    this.#tools = new Map(compactTools(tools.slice(0, MAX_TOOLS)).map((t) => [t.name, t]));
  }

  /** Bounded by the calling tool call's own timeout: a server slow to list cannot hold the call past it. */
  async #refreshForUnknown(session: Session, timeoutMs: number): Promise<void> {
    if (Date.now() - this.#lastToolRefresh < UNKNOWN_TOOL_REFRESH_MS) return;
    // Counted from the attempt: calls arriving together, or after a refresh that failed, do not list again.
    this.#lastToolRefresh = Date.now();
    try {
      await this.#listTools(session, Math.min(timeoutMs, this.limits.startTimeoutMs));
    } catch (error) {
      this.logger.warn({ server: this.name, err: error }, 'refreshing the MCP tool list failed');
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session ?? (await this.#starting?.catch(() => undefined));
    this.#session = undefined;
    await session?.client.close().catch(() => {});
  }
}

/** Only what is used of each tool, clipped: a listed tool costs at most a few KB however large the server made it. */
function compactTools(tools: readonly CachedTool[]): CachedTool[] {
  const kept: CachedTool[] = [];
  for (const { name, description } of tools) {
    if (typeof name !== 'string' || name.length > MAX_TOOL_NAME_CHARS) continue;
    kept.push(typeof description === 'string' ? { name, description: description.slice(0, MAX_TOOL_DESCRIPTION_CHARS) } : { name });
  }
  return kept;
}

function messageOf(error: unknown): string {
  return describeError(error);
}
