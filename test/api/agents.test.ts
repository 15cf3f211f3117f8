import { afterEach, describe, expect, it } from 'vitest';
import { bearer, makeApi, WASM, WASM_B64 } from './helpers.ts';

describe('agents routes', () => {
  const { app, services } = makeApi();
  afterEach(() => services.agents.clear());

  it('deploys with JSON → 201, lists, filters, gets, upgrades, deletes', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/agents',
      headers: bearer('deployer-key'),
      payload: { name: 'echo', module: WASM_B64, capabilities: ['echo'], limits: { fuel: 5000 } },
    });
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toBe('/api/v1/agents/echo');
    expect(created.json()).toMatchObject({ name: 'echo', version: 1, capabilities: ['echo'], limits: { fuel: 5000 } });

    const list = await app.inject({ url: '/api/v1/agents?capability=echo', headers: bearer('viewer-key') });
    expect(list.json().agents.map((a: { name: string }) => a.name)).toEqual(['echo']);
    const none = await app.inject({ url: '/api/v1/agents?node=elsewhere', headers: bearer('viewer-key') });
    expect(none.json()).toEqual({ agents: [] });

    const one = await app.inject({ url: '/api/v1/agents/echo', headers: bearer('viewer-key') });
    expect(one.json().name).toBe('echo');

    const upgraded = await app.inject({
      method: 'PUT',
      url: '/api/v1/agents/echo',
      headers: bearer('deployer-key'),
      payload: { module: WASM_B64 },
    });
    expect(upgraded.statusCode).toBe(200);
    expect(upgraded.json().version).toBe(2);

    const deleted = await app.inject({ method: 'DELETE', url: '/api/v1/agents/echo', headers: bearer('deployer-key') });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
  });

  it('deploys with multipart (module file + spec JSON)', async () => {
    const form = new FormData();
    form.append('spec', JSON.stringify({ name: 'mp', capabilities: ['x'] }));
    form.append('module', new Blob([WASM]), 'mp.wasm');
    const request = new Request('http://x/', { method: 'POST', body: form });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/agents',
      headers: { ...bearer(), 'content-type': request.headers.get('content-type')! },
      payload: Buffer.from(await request.arrayBuffer()),
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'mp', capabilities: ['x'] });
  });

  it('a second deploy of the same name is 409 CONFLICT from the services', async () => {
    const body = { name: 'dup', module: WASM_B64 };
    await app.inject({ method: 'POST', url: '/api/v1/agents', headers: bearer(), payload: body });
    const again = await app.inject({ method: 'POST', url: '/api/v1/agents', headers: bearer(), payload: body });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('CONFLICT');
  });

  it.each([
    ['module not base64', { name: 'a', module: 'not base64!' }, 'module'],
    ['name with a path', { name: '../etc', module: WASM_B64 }, 'name'],
    ['unknown field', { name: 'a', module: WASM_B64, colour: 'red' }, 'colour'],
    ['unknown limit', { name: 'a', module: WASM_B64, limits: { cpu: 1 } }, 'cpu'],
    ['bad limit', { name: 'a', module: WASM_B64, limits: { fuel: -1 } }, 'limits.fuel'],
    ['missing module', { name: 'a' }, 'module'],
  ])('refuses %s with 400 naming the field, writing nothing', async (_case, payload, field) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/agents', headers: bearer(), payload });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.details.field).toBe(field);
    expect(error.message).toContain(field);
    expect(services.agents.size).toBe(0);
  });

  it('PUT with a body name that differs from the path is 400 naming name', async () => {
    await app.inject({ method: 'POST', url: '/api/v1/agents', headers: bearer(), payload: { name: 'p', module: WASM_B64 } });
    const res = await app.inject({
      method: 'PUT',
      url: '/api/v1/agents/p',
      headers: bearer(),
      payload: { name: 'q', module: WASM_B64 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.field).toBe('name');
    expect(services.agents.get('p')!.version).toBe(1);
  });

  it('a path name like ../etc is 400 naming name; an unknown agent is 404', async () => {
    const bad = await app.inject({ url: '/api/v1/agents/..%2Fetc', headers: bearer() });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('name');
    const missing = await app.inject({ url: '/api/v1/agents/ghost', headers: bearer() });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      error: { code: 'AGENT_NOT_FOUND', message: "no agent named 'ghost'", details: { name: 'ghost' } },
    });
  });

  it('a body over the limit is 413 TOO_LARGE', async () => {
    const small = makeApi({ bodyLimitBytes: 1024 });
    const res = await small.app.inject({
      method: 'POST',
      url: '/api/v1/agents',
      headers: bearer(),
      payload: { name: 'big', module: Buffer.alloc(2048).toString('base64') },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('TOO_LARGE');
    expect(small.services.agents.size).toBe(0);
  });

  it('returns log pages after a sequence number', async () => {
    services.log('echo', 'one');
    services.log('echo', 'two');
    services.log('other', 'x');
    const res = await app.inject({ url: '/api/v1/agents/echo/logs?after=1', headers: bearer('viewer-key') });
    expect(res.statusCode).toBe(200);
    expect(res.json().lines.map((l: { message: string }) => l.message)).toEqual(['two']);
    const bad = await app.inject({ url: '/api/v1/agents/echo/logs?limit=abc', headers: bearer('viewer-key') });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('limit');
  });
});

describe('multipart uploads', () => {
  async function multipart(parts: Array<[string, string | Blob, string?]>): Promise<{ payload: Buffer; type: string }> {
    const form = new FormData();
    for (const [name, value, filename] of parts) {
      if (typeof value === 'string') form.append(name, value);
      else form.append(name, value, filename);
    }
    const request = new Request('http://x/', { method: 'POST', body: form });
    return { payload: Buffer.from(await request.arrayBuffer()), type: request.headers.get('content-type')! };
  }

  it.each([
    ['no spec', [['module', new Blob([WASM]), 'a.wasm']], 'spec'],
    ['no module', [['spec', '{"name":"a"}']], 'module'],
    ['an unknown part', [['spec', '{"name":"a"}'], ['extra', 'x'], ['module', new Blob([WASM]), 'a.wasm']], 'extra'],
    ['a spec with a bad name', [['spec', '{"name":"../a"}'], ['module', new Blob([WASM]), 'a.wasm']], 'name'],
    ['a spec that is not JSON', [['spec', '{'], ['module', new Blob([WASM]), 'a.wasm']], 'spec'],
  ] as Array<[string, Array<[string, string | Blob, string?]>, string]>)('%s → 400 naming %s', async (_case, parts, field) => {
    const { app, services } = makeApi();
    const { payload, type } = await multipart(parts);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/agents',
      headers: { ...bearer(), 'content-type': type },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.field).toBe(field);
    expect(services.agents.size).toBe(0);
  });

  it('a module file over the limit → 413; PUT takes multipart too', async () => {
    const { app, services } = makeApi({ bodyLimitBytes: 1024 });
    const big = await multipart([['spec', '{"name":"a"}'], ['module', new Blob([Buffer.alloc(4096)]), 'a.wasm']]);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/agents',
      headers: { ...bearer(), 'content-type': big.type },
      payload: big.payload,
    });
    expect(res.statusCode).toBe(413);
    expect(services.agents.size).toBe(0);

    await services.deployAgent({ name: 'a' }, WASM);
    const upgrade = await multipart([['spec', '{}'], ['module', new Blob([WASM]), 'a.wasm']]);
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/agents/a',
      headers: { ...bearer(), 'content-type': upgrade.type },
      payload: upgrade.payload,
    });
    expect(put.statusCode).toBe(200);
    expect(put.json().version).toBe(2);
  });
});
