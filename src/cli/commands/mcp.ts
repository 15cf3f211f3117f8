// `caxton mcp serve --stdio`: Caxton's MCP tools for desktop clients (Claude Desktop and the like), which start
// a server as a child process and talk JSON-RPC over its stdin/stdout. It talks to a running node through the
// REST API with the usual --server/--api-key (or CAXTON_SERVER/CAXTON_API_KEY), so the node checks the key's
// role on every call. stdout carries the protocol and nothing else; notes go to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Command } from 'commander';
import { createCaxtonMcpServer } from '../../mcp/caxton-tools.ts';
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { restOperations } from '../mcp-rest-operations.ts';
import { usageError } from '../cli-error.ts';
import { sessionFor, withExamples, type CliContext } from '../context.ts';
import { CLI_VERSION } from '../program.ts';

export function registerMcpCommands(program: Command, context: CliContext): void {
  const mcp = program.command('mcp').description("Caxton as an MCP server: a node serves it at /mcp; this command serves it over stdio");
  const serve = mcp
    .command('serve')
    .description("serve Caxton's MCP tools over stdin/stdout, talking to the node at --server")
    .option('--stdio', 'JSON-RPC over stdin/stdout (what desktop MCP clients start)')
    .action(async (options: { stdio?: boolean }, command: Command) => {
      if (!options.stdio) throw usageError('mcp serve: pass --stdio (over HTTP, the node itself serves MCP at /mcp)');
      const { client } = await sessionFor(command, context);
      const operations = restOperations(client);
      const server = createCaxtonMcpServer(() => operations, {
        version: CLI_VERSION,
        onUnexpected: (error, tool) => context.io.err(`caxton mcp: ${tool} failed: ${(error as Error)?.stack ?? String(error)}\n`),
      });
      const transport = new AnsweringTransport(new StdioServerTransport());
      const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
      await server.connect(transport);
      // The client ends the server by closing our stdin (the MCP stdio convention).
      await new Promise<void>((resolve) => {
        process.stdin.once('end', resolve);
        process.stdin.once('close', resolve);
        void closed.then(resolve);
      });
      await Promise.race([transport.answered(), closed]);
      await server.close();
    });
  withExamples(serve, 'caxton mcp serve --stdio --server http://127.0.0.1:8080 --api-key "$CAXTON_API_KEY"');
}

/**
 * A transport (the SDK's stdio one) counting requests not yet answered, so that a client that writes its
 * requests and closes stdin (a shell pipe) still gets every answer before the server closes.
 */
class AnsweringTransport implements Transport {
  onclose?: Transport['onclose'];
  onerror?: Transport['onerror'];
  onmessage?: Transport['onmessage'];
  readonly #unanswered = new Set<string | number>();
  #whenAnswered: (() => void) | undefined;

  constructor(private readonly inner: Transport) {}

  start(): Promise<void> {
    this.inner.onmessage = (message, extra) => {
      if ('method' in message && 'id' in message) this.#unanswered.add(message.id);
      this.onmessage?.(message, extra);
    };
    this.inner.onclose = () => this.onclose?.();
    this.inner.onerror = (error) => this.onerror?.(error);
    return this.inner.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    await this.inner.send(message, options);
    if (!('method' in message) && 'id' in message && message.id !== undefined && this.#unanswered.delete(message.id) && this.#unanswered.size === 0) {
      this.#whenAnswered?.();
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  answered(): Promise<void> {
    return this.#unanswered.size === 0 ? Promise.resolve() : new Promise((resolve) => (this.#whenAnswered = resolve));
  }
}
