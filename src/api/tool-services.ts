// What GET /api/v1/tools needs: the node's MCP servers, their status and cached tools. An extension beside
// NodeServices, passed to buildApi as `tools` (as cluster-services.ts and api-key-services.ts are).
import type { ToolServerView } from '../tools/tool-server-view.ts';

export type { ToolServerView, ToolView, ToolServerStatus } from '../tools/tool-server-view.ts';

export interface ToolServices {
  /** Every server of mcp.servers, or the one named (NOT_FOUND when it is not configured). */
  list(server?: string): ToolServerView[];
}
