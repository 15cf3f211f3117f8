import { describe, expect, it } from 'vitest';
import { FakeCluster } from './fake-services.ts';
import { bearer, makeApi } from './helpers.ts';

describe('cluster routes', () => {
  // `performance` against a real node under load: test/e2e/cluster-performance.test.ts.
  it('members and status for a viewer', async () => {
    const { app } = makeApi({ cluster: new FakeCluster() });
    const members = await app.inject({ url: '/api/v1/cluster/members', headers: bearer('viewer-key') });
    expect(members.json().members.map((m: { state: string }) => m.state)).toEqual(['alive', 'suspect']);
    const status = await app.inject({ url: '/api/v1/cluster/status', headers: bearer('viewer-key') });
    expect(status.json()).toEqual({ health: 'degraded', mode: 'read-write', alive: 1, expected: 2, quorum: 2 });
  });

  it('without a cluster layer wired: 503 UNAVAILABLE, not a 404', async () => {
    const { app } = makeApi();
    const res = await app.inject({ url: '/api/v1/cluster/status', headers: bearer() });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('UNAVAILABLE');
  });
});
