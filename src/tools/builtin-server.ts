// A tool server that lives inside the node (today: `builtin: state`). The gateway calls it directly, with
// the calling agent's name, instead of over an MCP transport: the agent's identity scopes what it may touch,
// and a local call has no JSON-RPC to pay for. The same handlers are also served over MCP by `caxton state
// serve`, so outside clients see the same tools.

/** One tool as MCP lists it (tools/list). */
export interface BuiltinToolDescription {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
}

/** An MCP CallToolResult: what the agent receives as the content of the `inform`. */
export interface BuiltinCallResult {
  content: Array<{ type: 'text'; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface BuiltinToolServer {
  /** The server name used in grants and in `mcp.servers` (`builtin: <name>`). */
  readonly name: string;
  tools(): BuiltinToolDescription[];
  /**
   * Runs one tool for `agent`. Resolves with the CallToolResult (isError for a tool-level failure such as
   * a bad argument); rejects with CaxtonError only when the server itself could not serve the call.
   */
  call(agent: string, tool: string, args: Record<string, unknown>): Promise<BuiltinCallResult>;
  close(): Promise<void>;
}
