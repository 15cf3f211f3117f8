// What every route plugin is given: the node facade and the limits that shape its inputs.
import type { NodeServices, Principal } from '../node/services.ts';
import type { RouteAccess } from './permissions.ts';
import type { SseHub } from './sse.ts';

export interface RouteContext {
  services: NodeServices;
  /** Largest message body accepted by POST /api/v1/messages. */
  maxMessageBytes: number;
  /** Ceiling of `wait_ms` on POST /api/v1/messages (api.max_wait_ms). */
  maxWaitMs: number;
  /** Largest multipart module file and JSON body accepted for agents. */
  bodyLimitBytes: number;
  /** Every open server-sent-events stream, closed when the server closes. */
  sse: SseHub;
}

declare module 'fastify' {
  /** Every route declares who may call it (see permissions.ts). */
  interface FastifyContextConfig extends RouteAccess {}
  interface FastifyRequest {
    /** Who is calling; set by the auth hook before any handler of a protected route runs. */
    principal: Principal | null;
  }
}
