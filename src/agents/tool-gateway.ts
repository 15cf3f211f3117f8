// The runtime's view of MCP: "call this tool for this agent". The MCP layer implements it; until it is
// wired, every call is refused with UNAVAILABLE, which reaches the agent as a `failure` message.
import { CaxtonError } from '../errors.ts';

export interface ToolGateway {
  /** Resolves with the MCP CallToolResult; rejects (ideally with CaxtonError) when the call failed. */
  call(agent: string, server: string, tool: string, args: Record<string, unknown>): Promise<unknown>;
}

export const unavailableToolGateway: ToolGateway = {
  call: async (_agent, server) => {
    throw new CaxtonError('UNAVAILABLE', `MCP server "${server}" is not available on this node`);
  },
};
