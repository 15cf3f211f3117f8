// GET /api/v1/cluster/performance?all=… is parsed, not only described in the OpenAPI schema (the API validates
// with zod, Fastify's own validation is off): a value it does not know is a 400 naming `all`, where it was
// silently the one-node answer (`?all=yes`, `?all=true&all=false`).
import { describe, expect, it } from 'vitest';
import { FakeCluster } from './fake-services.ts';
import { bearer, makeApi } from './helpers.ts';

describe('cluster performance query', () => {
  const { app } = makeApi({ cluster: new FakeCluster() });

  it.each([['all=maybe'], ['all=true&all=false'], ['every=1']])('?%s is a 400 naming the field', async (query) => {
    const res = await app.inject({ url: `/api/v1/cluster/performance?${query}`, headers: bearer('viewer-key') });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: query.startsWith('every') ? 'every' : 'all' } });
  });

  it.each([['', 'figures'], ['?all=false', 'figures'], ['?all=0', 'figures'], ['?all=true', 'nodes'], ['?all=1', 'nodes']])('%s answers %s', async (query, key) => {
    const res = await app.inject({ url: `/api/v1/cluster/performance${query}`, headers: bearer('viewer-key') });
    expect(res.statusCode, res.body).toBe(200);
    expect(Object.keys(res.json())).toEqual([key]);
  });
});
