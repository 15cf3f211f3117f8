// What `GET /api/v1/tools` and `caxton tools list` show about one configured MCP server.

/**
 * not_started: no agent called it yet (servers start on first call). starting: being spawned or connected.
 * running: connected, tools listed. restarting: it exited or could not start; the next call starts it
 * again once `retry_at` has passed, and `last_error` says what happened.
 */
export type ToolServerStatus = 'not_started' | 'starting' | 'running' | 'restarting';

export interface ToolView {
  name: string;
  description?: string;
}

export interface ToolServerView {
  name: string;
  kind: 'stdio' | 'http' | 'builtin';
  status: ToolServerStatus;
  /** Why it last stopped or failed to start, kept after it runs again (null when it never failed). */
  last_error: string | null;
  /** When the next start may happen (ISO 8601), while restarting. */
  retry_at: string | null;
  /** Starts after the first one. */
  restarts: number;
  calls_in_flight: number;
  /** The child's process id, for a running stdio server. */
  pid: number | null;
  /** The cached tool list (empty until the server first ran). */
  tools: ToolView[];
}
