// The MCP servers this node's agents may call: configured servers, whether each runs, why it last stopped,
// and the tools it lists. Readable by whoever may read agents, since grants name these tools.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { CaxtonError } from '../../errors.ts';
import type { ToolServices } from '../tool-services.ts';
import { jsonSchemaOf, parseOrThrow } from '../validation.ts';

const listQuery = z.strictObject({ server: z.string().min(1).max(128).optional() });

export interface ToolRouteOptions {
  /** Absent when the node wires no gateway: the route answers 503 rather than vanish. */
  tools?: ToolServices;
}

const serverSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: ['stdio', 'http', 'builtin'] },
    status: { type: 'string', enum: ['not_started', 'starting', 'running', 'restarting'] },
    last_error: { type: 'string', nullable: true },
    retry_at: { type: 'string', nullable: true },
    restarts: { type: 'integer' },
    calls_in_flight: { type: 'integer' },
    pid: { type: 'integer', nullable: true },
    tools: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, description: { type: 'string' } } } },
  },
} as const;

export const toolRoutes: FastifyPluginAsync<ToolRouteOptions> = async (app, { tools }) => {
  app.get(
    '/api/v1/tools',
    {
      config: { permission: 'agents:read' },
      schema: {
        summary: 'The MCP servers of mcp.servers: kind, status (not_started/starting/running/restarting with last_error), cached tools',
        tags: ['tools'],
        querystring: jsonSchemaOf(listQuery),
        response: { 200: { type: 'object', properties: { servers: { type: 'array', items: serverSchema } } } },
      },
    },
    async (request) => {
      if (!tools) throw new CaxtonError('UNAVAILABLE', 'this node has no tool gateway wired to its API');
      const { server } = parseOrThrow(listQuery, request.query, 'query');
      return { servers: tools.list(server) };
    },
  );
};
