// Defaults of Caxton's MCP server, each with the reason for its value.
import { API_DEFAULTS } from '../api/defaults.ts';

export const MCP_DEFAULTS = {
  /**
   * send_message waits this long when the caller names no wait_ms: an LLM asking an agent something wants the
   * answer in the same call, and an agent that answers at all usually does within milliseconds; 5 s leaves
   * room for a busy node without making a silent receiver cost a long stall.
   */
  sendWaitMs: 5_000,
  /** The ceiling a caller may ask for: the API's default wait ceiling (a node's api.max_wait_ms caps it further). */
  maxWaitMs: API_DEFAULTS.maxWaitMs,
  /** agent_logs lines per call: the REST API's page size and ceiling. */
  logLines: API_DEFAULTS.logPageSize,
  maxLogLines: API_DEFAULTS.maxLogPageSize,
  /**
   * /mcp requests handled at once per node (api.mcp_max_in_flight): each holds a small MCP server object and,
   * for send_message, a wait of up to api.max_wait_ms. Beyond it a request is answered 503 at once rather than
   * queued. 256 is far above what a handful of LLM clients use and caps the memory at a few MB.
   */
  maxInFlight: 256,
} as const;
