// Deploy, upgrade, list, inspect and delete agents.
import multipart from '@fastify/multipart';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { invalidArgument } from '../../errors.ts';
import { AGENT_NAME_PATTERN } from '../../messaging/message.ts';
import type { AgentSpecInput } from '../../node/services.ts';
import type { RouteContext } from '../context.ts';
import { jsonSchemaOf, parseOrThrow } from '../validation.ts';
import { uploadFromJson, uploadFromMultipart, type AgentUpload } from './agent-upload.ts';

export const agentName = z.string().regex(AGENT_NAME_PATTERN, 'must match ^[a-z0-9][a-z0-9._-]{0,62}$');

const limits = z
  .strictObject({
    // 65536 pages is the whole 4 GiB address space of wasm32.
    memory_pages: z.int().min(1).max(65536),
    fuel: z.int().min(1),
    mailbox: z.int().min(1),
  })
  .partial();

const tools = z.record(z.string().min(1).max(128), z.union([z.literal('*'), z.array(z.string().min(1).max(128))]));

const specFields = {
  capabilities: z.array(z.string().min(1).max(128)).max(256).optional(),
  tools: tools.optional(),
  limits: limits.optional(),
  node: z.string().min(1).max(256).optional(),
  /** When the agent's node dies: move to the new owner, or wait for the node (default: move unpinned, wait pinned). */
  failover: z.enum(['move', 'wait']).optional(),
};

const base64Module = z.base64().min(1);

/** POST body: a new agent. */
export const deployBody = z.strictObject({ name: agentName, module: base64Module, ...specFields });
/** PUT body: the same, but the name is taken from the path (a body name must agree with it). */
export const upgradeBody = z.strictObject({ name: agentName.optional(), module: base64Module, ...specFields });
const deploySpec = deployBody.omit({ module: true });
const upgradeSpec = upgradeBody.omit({ module: true });

const nameParams = z.strictObject({ name: agentName });
const listQuery = z.strictObject({ node: z.string().min(1).optional(), capability: z.string().min(1).optional() });

const agentObject = {
  type: 'object',
  description: 'AgentInfo: name, node, state, version, capabilities, module_sha256, tools, limits, stats',
  additionalProperties: true,
};

async function readUpload<J extends z.ZodType<{ module: string }>, S extends z.ZodType>(
  request: FastifyRequest,
  jsonSchema: J,
  specSchema: S,
): Promise<AgentUpload<z.output<S>>> {
  if (request.isMultipart()) return uploadFromMultipart(request, specSchema);
  return uploadFromJson(request.body, jsonSchema) as AgentUpload<z.output<S>>;
}

export const agentRoutes: FastifyPluginAsync<RouteContext> = async (app, { services, bodyLimitBytes }) => {
  // Only these routes take multipart; the spec field is small JSON, the module the one large part.
  await app.register(multipart, {
    limits: { fileSize: bodyLimitBytes, files: 1, fields: 2, parts: 3, fieldSize: 1024 * 1024 },
  });

  app.post(
    '/api/v1/agents',
    {
      config: { permission: 'agents:write' },
      schema: {
        summary: 'Deploy an agent (JSON with base64 module, or multipart: module file + spec JSON)',
        tags: ['agents'],
        consumes: ['application/json', 'multipart/form-data'],
        body: jsonSchemaOf(deployBody),
        response: { 201: agentObject },
      },
    },
    async (request, reply) => {
      const { spec, module } = await readUpload(request, deployBody, deploySpec);
      const agent = await services.deployAgent(spec as AgentSpecInput, module);
      reply.code(201).header('location', `/api/v1/agents/${agent.name}`);
      return agent;
    },
  );

  app.put(
    '/api/v1/agents/:name',
    {
      config: { permission: 'agents:write' },
      schema: {
        summary: 'Upgrade an agent in place (same body as deploy; the name in the path wins)',
        tags: ['agents'],
        consumes: ['application/json', 'multipart/form-data'],
        params: jsonSchemaOf(nameParams),
        body: jsonSchemaOf(upgradeBody),
        response: { 200: agentObject },
      },
    },
    async (request) => {
      const { name } = parseOrThrow(nameParams, request.params, 'name');
      const { spec, module } = await readUpload(request, upgradeBody, upgradeSpec);
      if (spec.name !== undefined && spec.name !== name) {
        throw invalidArgument('name', `name: the body names '${spec.name}' but the path names '${name}'`);
      }
      return services.upgradeAgent(name, { ...spec, name } as AgentSpecInput, module);
    },
  );

  app.get(
    '/api/v1/agents',
    {
      config: { permission: 'agents:read' },
      schema: {
        summary: 'List agents, optionally on one node or with one capability',
        tags: ['agents'],
        querystring: jsonSchemaOf(listQuery),
        response: { 200: { type: 'object', properties: { agents: { type: 'array', items: agentObject } } } },
      },
    },
    async (request) => {
      const filter = parseOrThrow(listQuery, request.query, 'query');
      return { agents: services.listAgents(filter) };
    },
  );

  app.get(
    '/api/v1/agents/:name',
    {
      config: { permission: 'agents:read' },
      schema: {
        summary: 'One agent',
        tags: ['agents'],
        params: jsonSchemaOf(nameParams),
        response: { 200: agentObject },
      },
    },
    async (request) => {
      const { name } = parseOrThrow(nameParams, request.params, 'name');
      return services.getAgent(name);
    },
  );

  app.delete(
    '/api/v1/agents/:name',
    {
      config: { permission: 'agents:write' },
      schema: { summary: 'Stop and remove an agent', tags: ['agents'], params: jsonSchemaOf(nameParams) },
    },
    async (request, reply) => {
      const { name } = parseOrThrow(nameParams, request.params, 'name');
      await services.deleteAgent(name);
      reply.code(204).send();
    },
  );
};
