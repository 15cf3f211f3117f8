// The audit log, read back (admin only): GET /api/v1/audit pages newest first; GET /api/v1/audit/export
// streams every matching entry oldest first as JSON lines (`caxton audit export`), a page at a time, so an
// export of the whole table never holds it in memory.
import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { CaxtonError } from '../../errors.ts';
import type { NodeServices } from '../../node/services.ts';
import type { AuditFilter } from '../../state/audit-log.ts';
import type { RouteContext } from '../context.ts';
import { jsonSchemaOf, parseOrThrow, queryBool, queryInt } from '../validation.ts';

/** Entries per page of GET /api/v1/audit, and per read of an export. */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

const rfc3339 = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), { error: 'expected an RFC 3339 time' });

const filterFields = {
  since: rfc3339.optional(),
  principal: z.string().min(1).max(256).optional(),
  action: z.string().min(1).max(256).optional(),
  denied: queryBool.optional(),
};
const listQuery = z.strictObject({ ...filterFields, limit: queryInt(1, MAX_PAGE).optional(), before_id: queryInt(1, Number.MAX_SAFE_INTEGER).optional() });
const exportQuery = z.strictObject(filterFields);

const entry = { type: 'object', additionalProperties: true } as const;

export const auditRoutes: FastifyPluginAsync<RouteContext> = async (app, { services }) => {
  const query = (): NonNullable<NodeServices['queryAudit']> => {
    if (!services.queryAudit) throw new CaxtonError('UNAVAILABLE', 'this node has no audit log wired to its API');
    return services.queryAudit.bind(services);
  };

  app.get(
    '/api/v1/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        summary: 'Audit entries, newest first; next_before_id pages on',
        tags: ['security'],
        querystring: jsonSchemaOf(listQuery),
        response: { 200: { type: 'object', properties: { entries: { type: 'array', items: entry }, next_before_id: { type: 'integer' } } } },
      },
    },
    async (request) => {
      const q = parseOrThrow(listQuery, request.query, 'query');
      const limit = q.limit ?? DEFAULT_PAGE;
      const entries = query()({ ...filterOf(q), ...(q.before_id !== undefined ? { beforeId: q.before_id } : {}) }, limit);
      return { entries, ...(entries.length === limit ? { next_before_id: entries[entries.length - 1].id } : {}) };
    },
  );

  app.get(
    '/api/v1/audit/export',
    {
      config: { permission: 'audit:read' },
      schema: { summary: 'Every matching audit entry, oldest first, as JSON lines (application/x-ndjson)', tags: ['security'], querystring: jsonSchemaOf(exportQuery) },
    },
    async (request, reply) => {
      const filter = filterOf(parseOrThrow(exportQuery, request.query, 'query'));
      const read = query();
      async function* lines(): AsyncGenerator<string> {
        let afterId = 0;
        for (;;) {
          const page = read({ ...filter, afterId }, MAX_PAGE);
          if (page.length === 0) return;
          yield page.map((e) => `${JSON.stringify(e)}\n`).join('');
          afterId = page[page.length - 1].id;
          if (page.length < MAX_PAGE) return;
        }
      }
      reply.type('application/x-ndjson');
      return reply.send(Readable.from(lines()));
    },
  );
};

function filterOf(q: { since?: string; principal?: string; action?: string; denied?: boolean }): AuditFilter {
  return {
    ...(q.since !== undefined ? { since: q.since } : {}),
    ...(q.principal !== undefined ? { principal: q.principal } : {}),
    ...(q.action !== undefined ? { action: q.action } : {}),
    ...(q.denied ? { denied: true } : {}),
  };
}
