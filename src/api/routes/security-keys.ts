// Gossip keyring management (`caxton security keys ...`, as `serf keys`): list, install, use, remove. Each
// operation is applied by every live Caxton member; the answer says how many did. Admin only (keys are
// the cluster's secret), and audited as every mutating call is.
import type { FastifyPluginAsync } from 'fastify';
import { CaxtonError, invalidArgument } from '../../errors.ts';
import type { ClusterServices, GossipKeyOp, GossipKeyReport } from '../cluster-services.ts';
import type { Permission } from '../permissions.ts';

/** No role but admin (which is granted everything) holds this permission. */
const ADMIN_ONLY: Permission = 'security:keys';

const MUTATIONS: readonly GossipKeyOp[] = ['install', 'use', 'remove'];

const report = {
  type: 'object',
  properties: {
    op: { type: 'string' },
    members: { type: 'integer' },
    applied: { type: 'integer' },
    failed: { type: 'array', items: { type: 'object', additionalProperties: true } },
    skipped: { type: 'array', items: { type: 'string' } },
    keys: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;

export const securityKeyRoutes: FastifyPluginAsync<{ cluster?: ClusterServices }> = async (app, { cluster }) => {
  const keys = (op: GossipKeyOp, key?: string): Promise<GossipKeyReport> => {
    if (!cluster?.gossipKeys) throw new CaxtonError('UNAVAILABLE', 'this node has no gossip layer wired to its API');
    return cluster.gossipKeys(op, key);
  };

  app.get(
    '/api/v1/security/keys',
    {
      config: { permission: ADMIN_ONLY, audit: 'security' },
      schema: { summary: 'Gossip keys installed across the cluster, with how many members hold each and use it as primary', tags: ['security'], response: { 200: report } },
    },
    async () => keys('list'),
  );

  app.post<{ Params: { op: string }; Body: unknown }>(
    '/api/v1/security/keys/:op',
    {
      config: { permission: ADMIN_ONLY, audit: 'security' },
      schema: {
        summary: 'install | use | remove a gossip key (body {"key": base64}) on every live member',
        tags: ['security'],
        params: { type: 'object', properties: { op: { type: 'string', enum: [...MUTATIONS] } } },
        body: { type: 'object', properties: { key: { type: 'string' } }, required: ['key'] },
        response: { 200: report },
      },
    },
    async (request) => {
      const op = request.params.op as GossipKeyOp;
      if (!MUTATIONS.includes(op)) throw new CaxtonError('NOT_FOUND', `no key operation '${request.params.op}': install, use or remove`);
      const key = (request.body as { key?: unknown } | undefined)?.key;
      if (typeof key !== 'string') throw invalidArgument('key', 'expected a base64 key of 16, 24 or 32 bytes');
      return keys(op, key);
    },
  );
};
