// Lifecycle control of one agent: POST /api/v1/agents/{name}/stop|start|restart|rollback. Role deployer
// (agents:write); audited like every mutating call (auth.ts).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { CaxtonError } from '../../errors.ts';
import type { AgentControlAction } from '../../node/services.ts';
import type { RouteContext } from '../context.ts';
import { jsonSchemaOf, parseOrThrow } from '../validation.ts';
import { agentName } from './agents.ts';

const nameParams = z.strictObject({ name: agentName });

const ACTIONS: Record<AgentControlAction, string> = {
  stop: 'Stop an agent: queued messages are handled, then agent_shutdown; it stays stopped across node restarts',
  start: 'Start a stopped or failed agent with a fresh instance of its current version',
  restart: 'Stop, then start a fresh instance of the same version',
  rollback: 'Go back one version (the node keeps the last 3): swapped in like an upgrade, no message lost',
};

export const agentControlRoutes: FastifyPluginAsync<RouteContext> = async (app, { services }) => {
  for (const [action, summary] of Object.entries(ACTIONS) as [AgentControlAction, string][]) {
    app.post(
      `/api/v1/agents/:name/${action}`,
      {
        config: { permission: 'agents:write' },
        schema: {
          summary,
          tags: ['agents'],
          params: jsonSchemaOf(nameParams),
          response: { 200: { type: 'object', description: 'AgentInfo after the change', additionalProperties: true } },
        },
      },
      async (request) => {
        const { name } = parseOrThrow(nameParams, request.params, 'name');
        if (!services.controlAgent) throw new CaxtonError('UNAVAILABLE', `this node cannot ${action} agents`);
        return services.controlAgent(name, action);
      },
    );
  }
};
