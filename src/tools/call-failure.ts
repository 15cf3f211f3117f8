// What a failed tool call becomes for the agent: a CaxtonError whose code is one of tools.md's outcomes.
// The SDK reports a timeout, a closed connection or a server's JSON-RPC error as McpError; a network
// failure as whatever fetch threw.
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { CaxtonError, describeError } from '../errors.ts';

/** Longest text taken from a server's error into the agent's `failure` message. */
const MAX_ERROR_TEXT = 1000;

export function clipped(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}

export interface FailureContext {
  server: string;
  tool: string;
  timeoutMs: number;
  /** Why the connection the call rode on went away, when it did: decides between SERVER_EXITED and TOO_LARGE. */
  closedBecause: 'TOO_LARGE' | 'SERVER_EXITED' | undefined;
  maxResultBytes: number;
}

export function callFailure(error: unknown, context: FailureContext): CaxtonError {
  if (error instanceof CaxtonError) return error;
  const { server, tool } = context;
  if (context.closedBecause === 'TOO_LARGE') return tooLarge(context);
  if (error instanceof McpError) {
    if (error.code === ErrorCode.RequestTimeout) {
      return new CaxtonError('TIMEOUT', `${server}/${tool} did not answer within ${context.timeoutMs} ms`, { server, tool, timeout_ms: context.timeoutMs });
    }
    if (error.code === ErrorCode.ConnectionClosed) {
      return new CaxtonError('SERVER_EXITED', `MCP server "${server}" went away during the call to ${tool}`, { server, tool });
    }
    return new CaxtonError('TOOL_ERROR', clipped(`${server}/${tool}: ${error.message}`), { server, tool, mcp_code: error.code });
  }
  if (context.closedBecause === 'SERVER_EXITED') {
    return new CaxtonError('SERVER_EXITED', `MCP server "${server}" went away during the call to ${tool}`, { server, tool });
  }
  const message = describeError(error);
  return new CaxtonError('UNAVAILABLE', clipped(`MCP server "${server}" could not be reached: ${message}`), { server, tool });
}

export function tooLarge(context: { server: string; tool: string; maxResultBytes: number }): CaxtonError {
  return new CaxtonError('TOO_LARGE', `${context.server}/${context.tool} answered more than ${context.maxResultBytes} bytes (mcp.max_result_bytes)`, {
    server: context.server,
    tool: context.tool,
    limit_bytes: context.maxResultBytes,
  });
}

/** A CallToolResult with isError: the tool ran and reported a failure; its text is the message. */
export function toolReportedError(server: string, tool: string, result: { content?: unknown }): CaxtonError {
  const parts = Array.isArray(result.content) ? result.content : [];
  const text = parts
    .map((part) => (part && typeof part === 'object' && (part as { type?: unknown }).type === 'text' ? String((part as { text?: unknown }).text ?? '') : ''))
    .filter((t) => t !== '')
    .join('\n');
  return new CaxtonError('TOOL_ERROR', clipped(text || `${server}/${tool} reported an error`), { server, tool });
}
