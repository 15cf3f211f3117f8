// The cluster as this node sees it: members, health and quorum, and the live performance figures.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { CaxtonError } from '../../errors.ts';
import type { ClusterServices } from '../cluster-services.ts';
import { jsonSchemaOf, parseOrThrow, queryBool } from '../validation.ts';
import { drainRoutes } from './drain.ts';
import { securityKeyRoutes } from './security-keys.ts';

export interface ClusterRouteOptions {
  /** Absent until the node wires its cluster layer: the routes then answer 503 rather than vanish. */
  cluster?: ClusterServices;
}

const open = { type: 'object', additionalProperties: true } as const;

// Parsed, not only described: `?all=yes` or `?all=true&all=false` is a 400 naming `all`, not the one-node answer.
const performanceQuery = z.strictObject({ all: queryBool.optional() });

export const clusterRoutes: FastifyPluginAsync<ClusterRouteOptions> = async (app, { cluster }) => {
  const need = (): ClusterServices => {
    if (!cluster) throw new CaxtonError('UNAVAILABLE', 'this node has no cluster layer wired to its API');
    return cluster;
  };

  // The gossip keyring belongs to the cluster layer: its routes ride on this plugin.
  await app.register(securityKeyRoutes, { cluster });
  await app.register(drainRoutes, { cluster });

  app.get(
    '/api/v1/cluster/members',
    {
      config: { permission: 'cluster:read' },
      schema: {
        summary: 'One entry per node: id, address, state (alive/suspect/dead/left), agents, version',
        tags: ['cluster'],
        response: { 200: { type: 'object', properties: { members: { type: 'array', items: open } } } },
      },
    },
    async () => ({ members: need().clusterMembers() }),
  );

  app.get(
    '/api/v1/cluster/status',
    {
      config: { permission: 'cluster:read' },
      schema: {
        summary: 'Health (healthy/degraded), mode (read-write/read-only), alive and expected nodes, quorum, agents cluster-wide',
        tags: ['cluster'],
        response: {
          200: {
            type: 'object',
            properties: {
              health: { type: 'string', enum: ['healthy', 'degraded'] },
              mode: { type: 'string', enum: ['read-write', 'read-only'] },
              alive: { type: 'integer' },
              expected: { type: 'integer' },
              quorum: { type: 'integer' },
              agents: { type: 'integer' },
            },
          },
        },
      },
    },
    async () => need().clusterStatus(),
  );

  app.get(
    '/api/v1/cluster/performance',
    {
      config: { permission: 'cluster:read' },
      schema: {
        summary: 'Live figures next to their targets (routing latency, throughput, agent start-up, convergence); ?all=true: every node',
        tags: ['cluster'],
        querystring: jsonSchemaOf(performanceQuery),
        response: { 200: { type: 'object', properties: { figures: { type: 'array', items: open }, nodes: { type: 'array', items: open } } } },
      },
    },
    async (request) => {
      const { all } = parseOrThrow(performanceQuery, request.query ?? {}, 'query');
      const services = need();
      if (!all) return { figures: services.clusterPerformance() };
      return { nodes: services.clusterPerformanceAll ? await services.clusterPerformanceAll() : [{ node: 'local', figures: services.clusterPerformance() }] };
    },
  );

  app.post(
    '/api/v1/cluster/token',
    {
      config: { permission: 'security:join-tokens' },
      schema: {
        summary: 'A join token: `caxton server start --join THIS_NODE --token T` gets a routing certificate from this node (it must hold the cluster CA)',
        tags: ['cluster'],
        response: { 200: { type: 'object', properties: { token: { type: 'string' } } } },
      },
    },
    async () => {
      const services = need();
      if (!services.clusterJoinToken) throw new CaxtonError('UNAVAILABLE', 'this node has no routing layer wired to its API');
      return { token: services.clusterJoinToken() };
    },
  );
};
