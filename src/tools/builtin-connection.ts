// A server built into the node (`builtin: state`), called directly with the calling agent's name: no
// process, no JSON-RPC. It gets the same timeout, size limit and outcome codes as any other server, so an
// agent cannot tell a built-in from an outside one by how failures look.
import { CaxtonError, describeError } from '../errors.ts';
import type { BuiltinCallResult, BuiltinToolServer } from './builtin-server.ts';
import { clipped, tooLarge, toolReportedError } from './call-failure.ts';
import type { ToolServerStatus, ToolServerView } from './tool-server-view.ts';

export class BuiltinConnection {
  #server: BuiltinToolServer | undefined;
  #opening: Promise<BuiltinToolServer> | undefined;
  #status: ToolServerStatus = 'not_started';
  #lastError: string | null = null;
  #closed = false;
  callsInFlight = 0;

  /** `open` is undefined when this build has no such built-in server. */
  constructor(
    readonly name: string,
    readonly builtin: string,
    private readonly open: (() => Promise<BuiltinToolServer>) | undefined,
    private readonly maxResultBytes: number,
  ) {}

  view(): ToolServerView {
    return {
      name: this.name,
      kind: 'builtin',
      status: this.#status,
      last_error: this.#lastError,
      retry_at: null,
      restarts: 0,
      calls_in_flight: this.callsInFlight,
      pid: null,
      tools: (this.#server?.tools() ?? []).map((t) => ({ name: t.name, description: t.description })),
    };
  }

  async call(agent: string, tool: string, args: Record<string, unknown>, timeoutMs: number): Promise<BuiltinCallResult> {
    const server = await this.#ready();
    if (!server.tools().some((t) => t.name === tool)) {
      throw new CaxtonError('UNKNOWN_TOOL', `MCP server "${this.name}" has no tool "${tool}"`, { server: this.name, tool });
    }
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CaxtonError('TIMEOUT', `${this.name}/${tool} did not answer within ${timeoutMs} ms`, { server: this.name, tool, timeout_ms: timeoutMs })),
        timeoutMs,
      );
    });
    let result: BuiltinCallResult;
    try {
      result = await Promise.race([server.call(agent, tool, args), deadline]);
    } catch (error) {
      if (error instanceof CaxtonError) throw error;
      throw new CaxtonError('TOOL_ERROR', clipped(`${this.name}/${tool}: ${describeError(error)}`), { server: this.name, tool });
    } finally {
      clearTimeout(timer);
    }
    if (typeof result !== 'object' || result === null || Array.isArray(result) || !Array.isArray(result.content)) {
      throw new CaxtonError('TOOL_ERROR', `${this.name}/${tool} answered something that is not a CallToolResult`, { server: this.name, tool });
    }
    if (Buffer.byteLength(JSON.stringify(result)) > this.maxResultBytes) throw tooLarge({ server: this.name, tool, maxResultBytes: this.maxResultBytes });
    if (result.isError === true) throw toolReportedError(this.name, tool, result);
    return result;
  }

  #ready(): Promise<BuiltinToolServer> {
    if (this.#closed) return Promise.reject(new CaxtonError('UNAVAILABLE', `MCP server "${this.name}" is closed (the node is stopping)`, { server: this.name }));
    if (this.#server) return Promise.resolve(this.#server);
    if (!this.open) {
      return Promise.reject(new CaxtonError('UNAVAILABLE', `MCP server "${this.name}": the built-in server "${this.builtin}" is not part of this build`, { server: this.name }));
    }
    this.#opening ??= (async () => {
      this.#status = 'starting';
      try {
        const server = await this.open!();
        if (this.#closed) {
          await server.close().catch(() => {});
          throw new CaxtonError('UNAVAILABLE', `MCP server "${this.name}" is closed (the node is stopping)`);
        }
        this.#server = server;
        this.#status = 'running';
        return server;
      } catch (error) {
        // A built-in fails to open for a reason of configuration (a database URL): the next call tries again.
        this.#status = 'restarting';
        this.#lastError = clipped(`cannot start: ${describeError(error)}`);
        throw error instanceof CaxtonError ? error : new CaxtonError('UNAVAILABLE', `MCP server "${this.name}" ${this.#lastError}`, { server: this.name });
      } finally {
        this.#opening = undefined;
      }
    })();
    return this.#opening;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const server = this.#server ?? (await this.#opening?.catch(() => undefined));
    this.#server = undefined;
    await server?.close();
  }
}
