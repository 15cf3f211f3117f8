// API key management (`caxton security api-keys create|list|revoke`): admin only, since a key of any role can
// be minted here; each call is audited as every mutating call is (the key's name is the audit target).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { CaxtonError } from '../../errors.ts';
import type { ApiKeyServices } from '../api-key-services.ts';
import type { Role } from '../../node/services.ts';
import { ROLES, type Permission } from '../permissions.ts';
import { jsonSchemaOf, parseOrThrow } from '../validation.ts';

/** No role but admin (which is granted everything) holds this permission. */
const ADMIN_ONLY: Permission = 'security:api-keys';

/** A key's name is the principal id in the audit log and a path segment: keep it plain. */
export const API_KEY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Principal ids the audit log gives a meaning of its own (auth switched off, a refused caller). */
const RESERVED_KEY_NAMES = new Set(['anonymous', 'unauthenticated']);

const createBody = z.strictObject({
  name: z
    .string()
    .regex(API_KEY_NAME_PATTERN, { error: 'expected 1-64 characters: letters, digits, then also . _ @ -' })
    .refine((name) => !RESERVED_KEY_NAMES.has(name.toLowerCase()), { error: 'reserved: the audit log uses this name for callers without a key' }),
  role: z.enum(ROLES as [Role, ...Role[]], { error: `expected one of ${ROLES.join(', ')}` }),
});

const keyView = {
  type: 'object',
  properties: { name: { type: 'string' }, role: { type: 'string' }, created_at: { type: 'string' } },
} as const;

export const apiKeyRoutes: FastifyPluginAsync<{ apiKeys?: ApiKeyServices }> = async (app, { apiKeys }) => {
  const keys = (): ApiKeyServices => {
    if (!apiKeys) throw new CaxtonError('UNAVAILABLE', 'this node has no API key store wired to its API');
    return apiKeys;
  };

  app.post(
    '/api/v1/security/api-keys',
    {
      config: { permission: ADMIN_ONLY, audit: 'security' },
      schema: {
        summary: 'Create an API key for a role; the answer holds the key, shown this once',
        tags: ['security'],
        body: jsonSchemaOf(createBody),
        response: { 201: { ...keyView, properties: { ...keyView.properties, key: { type: 'string' } } } },
      },
    },
    async (request, reply) => {
      const { name, role } = parseOrThrow(createBody, request.body);
      reply.code(201);
      return keys().createApiKey(role, name);
    },
  );

  app.get(
    '/api/v1/security/api-keys',
    {
      config: { permission: ADMIN_ONLY, audit: 'security' },
      schema: {
        summary: 'Every API key: name, role, creation time (never the key)',
        tags: ['security'],
        response: { 200: { type: 'object', properties: { api_keys: { type: 'array', items: keyView } } } },
      },
    },
    async () => ({ api_keys: keys().listApiKeys() }),
  );

  app.delete<{ Params: { name: string } }>(
    '/api/v1/security/api-keys/:name',
    {
      config: { permission: ADMIN_ONLY, audit: 'security' },
      schema: {
        summary: 'Revoke an API key: the next request with it is refused',
        tags: ['security'],
        params: { type: 'object', properties: { name: { type: 'string' } } },
      },
    },
    async (request, reply) => {
      keys().revokeApiKey(request.params.name);
      reply.code(204).send();
    },
  );
};
