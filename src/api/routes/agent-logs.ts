// An agent's log: a page of lines, or (follow=true) the backlog and then every new line as server-sent
// events, each with its sequence number as event id so a client can resume with Last-Event-ID.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { AgentLogLine } from '../../node/services.ts';
import type { RouteContext } from '../context.ts';
import { API_DEFAULTS } from '../defaults.ts';
import { jsonSchemaOf, parseOrThrow, queryBool, queryInt } from '../validation.ts';
import { agentName } from './agents.ts';

const nameParams = z.strictObject({ name: agentName });
const logsQuery = z.strictObject({
  after: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
  limit: queryInt(1, API_DEFAULTS.maxLogPageSize).optional(),
  follow: queryBool.optional(),
});

export const agentLogRoutes: FastifyPluginAsync<RouteContext> = async (app, { services, sse }) => {
  app.get(
    '/api/v1/agents/:name/logs',
    {
      config: { permission: 'agents:read' },
      schema: {
        summary: 'Log lines of an agent after a sequence number; follow=true streams them (text/event-stream)',
        tags: ['agents'],
        params: jsonSchemaOf(nameParams),
        querystring: jsonSchemaOf(logsQuery),
      },
    },
    async (request, reply) => {
      const { name } = parseOrThrow(nameParams, request.params, 'name');
      const query = parseOrThrow(logsQuery, request.query, 'query');
      const lastEventId = Number(request.headers['last-event-id']);
      const afterSeq = query.after ?? (Number.isSafeInteger(lastEventId) ? lastEventId : undefined);
      if (!query.follow) {
        return { lines: await services.agentLogs(name, { afterSeq, limit: query.limit ?? API_DEFAULTS.logPageSize }) };
      }

      services.getAgent(name); // a 404 as JSON before the stream starts
      if (sse.refuseWhenFull(reply)) return reply;
      // Subscribe before reading the backlog so no line falls between the two; duplicates are skipped by seq.
      const pending: AgentLogLine[] = [];
      let lastSent = afterSeq ?? -1;
      let live = false;
      const unsubscribe = services.followAgentLogs(name, (line) => (live ? emit(line) : pending.push(line)));
      const stream = sse.open(reply); // cannot be refused: there was room in this same turn
      stream.onClose(unsubscribe);
      function emit(line: AgentLogLine): void {
        if (line.seq <= lastSent) return;
        lastSent = line.seq;
        stream.send('log', line, line.seq);
      }
      for (const line of await services.agentLogs(name, { afterSeq, limit: query.limit ?? API_DEFAULTS.maxLogPageSize })) {
        emit(line);
      }
      for (const line of pending.splice(0)) emit(line);
      live = true;
    },
  );
};
