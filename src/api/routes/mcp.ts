// Caxton as an MCP server over streamable HTTP: POST /mcp, on the API port, behind the same auth hook (API
// keys, JWTs, client certificates) and per-role budgets as every route. Stateless: each POST gets its own
// transport (the SDK's stateless mode) on an McpServer taken from a pool of idle ones, both closed when the
// answer is sent, so no session is held between requests. The route needs only `api:read` to be reached; each tool checks its own permission
// (src/api/mcp-operations.ts), so a role lacking it gets a tool error, not a 403 for the whole request.
// Bounds: one JSON-RPC message per POST (so the role's request budget is also its tool-call budget), the
// API's body limit, and `api.mcp_max_in_flight` requests at once (503 beyond, at once). A browser's request
// (an Origin header) passes only from `api.mcp_allowed_origins`, against DNS rebinding.
import type { IncomingMessage } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { CaxtonError } from '../../errors.ts';
import { createCaxtonMcpServer } from '../../mcp/caxton-tools.ts';
import { serviceOperations } from '../mcp-operations.ts';
import type { NodeServices, Principal } from '../../node/services.ts';
import { AuditAggregator } from '../audit-aggregator.ts';
import { holderKeyOf, PrincipalSlots } from '../principal-slots.ts';
import { principalOf, type AuditAggregation } from '../auth.ts';
import type { AnswerSlots } from '../answer-slots.ts';
import { releaseWhenDone } from '../client-gone.ts';
import type { ClusterServices } from '../cluster-services.ts';
import { toApiError } from '../error-reply.ts';

export interface McpRouteOptions {
  services: NodeServices;
  cluster?: ClusterServices;
  /** Requests handled at once (api.mcp_max_in_flight). */
  maxInFlight: number;
  /** Of them, one principal's (api.mcp_max_in_flight_per_principal). */
  maxInFlightPerPrincipal: number;
  /** Browser origins allowed (api.mcp_allowed_origins): a request with any other Origin header is refused. */
  allowedOrigins: readonly string[];
  /** How the tools' denials and sends are aggregated in the audit log (the API's own settings). */
  auditAggregation: AuditAggregation;
  /** The bound on large answers, shared with the REST reads (api.max_answers_in_flight). */
  answers?: AnswerSlots;
}

/** JSON-RPC error codes the answers below use (JSON-RPC 2.0 and the SDK's own for transport refusals). */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const SERVER_ERROR = -32000;
const INTERNAL_ERROR = -32603;

/** An HTTP-level refusal in JSON-RPC's error shape (what an MCP client reads), with Caxton's code as data. */
function rpcError(reply: FastifyReply, status: number, rpcCode: number, code: string, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .send({ jsonrpc: '2.0', id: null, error: { code: rpcCode, message: `${code}: ${message}`, data: { code } } });
}

export const mcpRoutes: FastifyPluginAsync<McpRouteOptions> = async (app, options) => {
  const { services, cluster, maxInFlight, maxInFlightPerPrincipal } = options;
  const allowedOrigins = new Set(options.allowedOrigins.map((origin) => origin.toLowerCase()));
  const audit = new AuditAggregator({
    write: (entry) => services.audit(entry),
    windowMs: options.auditAggregation.windowMs,
    eachPerWindow: options.auditAggregation.denialsPerWindow,
    maxGroups: options.auditAggregation.maxGroups,
  });
  app.addHook('onClose', async () => audit.flush());
  const inFlight = new PrincipalSlots(maxInFlight, maxInFlightPerPrincipal);
  /** Servers between requests: at most one per request in flight, so at most maxInFlight of them. */
  const idle: McpServer[] = [];
  const createServer = (): McpServer =>
    createCaxtonMcpServer(
      (authInfo) => {
        const principal = authInfo?.extra?.principal as Principal | undefined;
        if (!principal) throw new CaxtonError('UNAUTHENTICATED', 'no principal on this MCP request');
        return serviceOperations({ services, cluster, principal, audit, answers: options.answers });
      },
      { version: services.version, onUnexpected: (error, tool) => app.log.error({ err: error, tool }, 'MCP tool failed unexpectedly') },
    );

  // Errors before the handler (a body that is not JSON, too deep, too large) answer in JSON-RPC's shape here.
  app.setErrorHandler((error, request, reply) => {
    const mapped = toApiError(error);
    // `expected`: a bound of the node that is full (api.max_body_bytes_in_flight), no fault to log.
    if (!mapped.expected && (error as { expected?: boolean }).expected !== true) request.log.error({ err: error }, 'mcp request failed');
    if (mapped.status === 413 || (error as { closeConnection?: boolean }).closeConnection) reply.header('connection', 'close');
    const retryAfter = mapped.body.error.details?.retry_after_seconds;
    if (mapped.status === 503 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    const rpcCode = mapped.status === 400 ? PARSE_ERROR : mapped.status >= 500 ? INTERNAL_ERROR : INVALID_REQUEST;
    return rpcError(reply, mapped.status, rpcCode, mapped.body.error.code, mapped.body.error.message);
  });

  const notAllowed = async (_request: unknown, reply: FastifyReply) =>
    rpcError(reply.header('allow', 'POST'), 405, SERVER_ERROR, 'INVALID_ARGUMENT', 'method not allowed: this server is stateless; POST JSON-RPC to /mcp');
  // No sessions, so no stream of server-initiated messages (GET) and nothing to end (DELETE): 405, as the spec allows.
  app.get('/mcp', { config: { permission: 'api:read' }, schema: { hide: true } }, notAllowed);
  app.delete('/mcp', { config: { permission: 'api:read' }, schema: { hide: true } }, notAllowed);

  app.post(
    '/mcp',
    {
      config: { permission: 'api:read', audit: 'count' },
      schema: {
        summary: "Caxton's MCP server (streamable HTTP, stateless, JSON answers): tools list_agents, get_agent, deploy_agent, send_message, get_conversation, cluster_status, list_members, agent_logs",
        tags: ['mcp'],
      },
    },
    async (request, reply) => {
      const origin = request.headers.origin;
      if (origin !== undefined && !allowedOrigins.has(origin.toLowerCase())) {
        return rpcError(reply, 403, SERVER_ERROR, 'PERMISSION_DENIED', `origin ${origin} is not in api.mcp_allowed_origins`);
      }
      if (Array.isArray(request.body)) {
        return rpcError(reply, 400, INVALID_REQUEST, 'INVALID_ARGUMENT', 'body: one JSON-RPC message per request (batches are not accepted)');
      }
      const principal = principalOf(request);
      const holder = holderKeyOf(principal);
      const refused = inFlight.take(holder);
      if (refused !== undefined) {
        reply.header('retry-after', '1');
        const why =
          refused === 'node'
            ? `${maxInFlight} MCP requests in flight on this node (api.mcp_max_in_flight); retry shortly`
            : `you have ${maxInFlightPerPrincipal} MCP requests in flight on this node (api.mcp_max_in_flight_per_principal); retry once one is answered`;
        return rpcError(reply, 503, SERVER_ERROR, 'UNAVAILABLE', why);
      }
      const server = idle.pop() ?? createServer();
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      // The principal rides to the tools as the SDK's auth info (see caxton-tools.ts OperationsFor).
      (request.raw as IncomingMessage & { auth?: AuthInfo }).auth = { token: '', clientId: principal.id, scopes: [principal.role], extra: { principal } };
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        inFlight.give(holder);
        // Closing aborts a tool still running (a send_message wait whose client went away); then the server
        // waits, unconnected, for the next request.
        server.close().then(
          () => {
            if (idle.length < maxInFlight) idle.push(server);
          },
          () => undefined,
        );
      };
      reply.hijack();
      // Not the response's own 'close': one pipelined behind another never emits it when the socket dies, and
      // the slot would never come back.
      if (!releaseWhenDone(reply.raw, release)) return; // the client is gone already: released, nothing to answer
      try {
        await server.connect(transport);
        await transport.handleRequest(request.raw, reply.raw, request.body);
      } catch (error) {
        request.log.error({ err: error }, 'MCP transport failed');
        if (!reply.raw.headersSent) {
          const body = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: INTERNAL_ERROR, message: 'INTERNAL: internal error; see the node log' } });
          reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(body);
        } else {
          reply.raw.destroy();
        }
        release();
      }
    },
  );
};
