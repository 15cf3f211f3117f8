// Unauthenticated work stays cheaper than authenticated work with tracing on: a public route (the console's
// files, /health) makes no span whatever traceparent the caller sends. Before, 500 anonymous GET /ui/ with a
// sampled traceparent made and exported 500 spans, crowding real ones out of the bounded export queue.
import { afterAll, describe, expect, it } from 'vitest';
import type { RequestSpan, RequestTracer } from '../../src/observability/tracing.ts';
import { bearer, makeApi } from './helpers.ts';

const started: string[] = [];
const tracer: RequestTracer = {
  startRequest(method: string): RequestSpan {
    started.push(method);
    return { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, end() {} };
  },
};
const { app } = makeApi({ tracer });
afterAll(() => app.close());

const SAMPLED = { traceparent: `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01` };

describe('spans and public routes', () => {
  it('anonymous calls to public routes make no span; a refused call makes none; an admitted one does', async () => {
    for (const url of ['/ui/', '/ui/index.html', '/health']) {
      const response = await app.inject({ method: 'GET', url, headers: SAMPLED });
      expect(response.statusCode, url).toBe(200);
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/agents', headers: SAMPLED })).statusCode).toBe(401);
    expect(started).toEqual([]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/agents', headers: { ...SAMPLED, ...bearer('viewer-key') } })).statusCode).toBe(200);
    expect(started).toEqual(['GET']);
  });
});
