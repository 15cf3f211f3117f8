// Drain, undrain and leave (docs/operations.md "Drain, leave and rolling upgrade"): this node's, or another
// member's through this node (so one API key drives a whole rolling upgrade). Operators' calls: cluster:write.
import type { FastifyPluginAsync } from 'fastify';
import { CaxtonError } from '../../errors.ts';
import type { ClusterServices } from '../cluster-services.ts';

export interface DrainRouteOptions {
  cluster?: ClusterServices;
}

const report = { type: 'object', additionalProperties: true } as const;
const nodeParam = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 256 } }, required: ['id'] } as const;

export const drainRoutes: FastifyPluginAsync<DrainRouteOptions> = async (app, { cluster }) => {
  const need = <K extends 'drainNode' | 'undrainNode' | 'leaveCluster'>(what: K): NonNullable<ClusterServices[K]> => {
    const fn = cluster?.[what];
    if (!cluster || !fn) throw new CaxtonError('UNAVAILABLE', 'this node has no cluster layer wired to its API');
    return fn.bind(cluster) as NonNullable<ClusterServices[K]>;
  };

  app.post(
    '/api/v1/node/drain',
    {
      config: { permission: 'cluster:write' },
      schema: {
        summary: "Hands this node's agents to their new owners (mailboxes forwarded); the node stays a member owning none until undrained",
        tags: ['cluster'],
        response: { 200: report },
      },
    },
    async () => need('drainNode')(),
  );

  app.post(
    '/api/v1/node/undrain',
    { config: { permission: 'cluster:write' }, schema: { summary: 'Placement may choose this node again', tags: ['cluster'], response: { 200: report } } },
    async () => need('undrainNode')(),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/cluster/members/:id/drain',
    {
      config: { permission: 'cluster:write' },
      schema: { summary: "Drains another member, through this node's routing link to it", tags: ['cluster'], params: nodeParam, response: { 200: report } },
    },
    async (request) => need('drainNode')(request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/cluster/members/:id/undrain',
    {
      config: { permission: 'cluster:write' },
      schema: { summary: 'Undrains another member', tags: ['cluster'], params: nodeParam, response: { 200: report } },
    },
    async (request) => need('undrainNode')(request.params.id),
  );

  app.post(
    '/api/v1/cluster/leave',
    {
      config: { permission: 'cluster:write' },
      schema: {
        summary: "Graceful leave: hands this node's agents over, answers with what moved, then leaves the cluster (`left` everywhere) and stops",
        tags: ['cluster'],
        response: { 200: report },
      },
    },
    async () => need('leaveCluster')(),
  );
};
