// Issue 3's "done when" through a real node process, the CLI and the REST API: fuel, memory, failure after
// repeated traps, and a wasi-libc C agent whose printf reaches the agent log.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasiClang } from '../../scripts/build-examples.ts';
import { compileWat, exampleModule, exampleWasm } from '../helpers/modules.ts';
import { apiClient } from '../helpers/api-client.ts';
import { runCli, startNode, type NodeProcess } from '../helpers/node-process.ts';

let node: NodeProcess;
let key: string;

const { api, deploy } = apiClient(() => ({ url: node.url, key }));


const request = (receiver: string, content: unknown = 'go') =>
  api('/api/v1/messages?wait_ms=3000', { method: 'POST', json: { performative: 'request', receiver, content } });

/** A raw-ABI agent: `handle` is the body of handle_message (params $ptr $len, result i32). */
const rawAgent = (handle: string, memory = '(memory (export "memory") 2)') =>
  compileWat(`(module ${memory}
    (func (export "agent_alloc") (param i32) (result i32) (i32.const 1024))
    (func (export "handle_message") (param $ptr i32) (param $len i32) (result i32) ${handle}))`);

beforeAll(async () => {
  node = await startNode();
  key = node.apiKey();
}, 30_000);

afterAll(async () => {
  await node?.kill('SIGTERM');
});

describe('agent isolation on a running node', () => {
  it('stops an infinite loop by fuel while another agent keeps answering', async () => {
    expect((await deploy('spin', await rawAgent('(loop $l (br $l)) (i32.const 0)'), { limits: { fuel: 2_000_000 } })).status).toBe(201);
    expect((await deploy('echo', exampleModule('echo'))).status).toBe(201);
    const [spun, echoed] = await Promise.all([request('spin'), request('echo', { n: 1 })]);
    expect(spun.body.replies[0]).toMatchObject({ performative: 'failure', content: { error: { code: 'AGENT_TRAPPED' } } });
    expect(echoed.body.replies[0]).toMatchObject({ performative: 'inform' });
    const metrics = await api('/metrics');
    expect(metrics.body).toMatch(/caxton_agent_traps_total\{reason="fuel"\} [1-9]/);
    expect(metrics.body).toContain('caxton_agent_fuel_used{agent="spin"} 2000000');
    expect(metrics.body).toContain('caxton_agent_traps{agent="spin",reason="fuel_exhausted"} 1');
    const inspected = await runCli(['agent', 'inspect', 'spin'], { CAXTON_SERVER: node.url, CAXTON_API_KEY: key });
    expect(inspected.stdout).toMatch(/fuel used:\s+2000000/);
    expect(inspected.stdout).toMatch(/memory pages:/);
    expect(inspected.stdout).toMatch(/traps:\s+1 \(fuel_exhausted 1\)/);
  });

  it('traps growth past the memory limit, refuses a huge declared minimum with the numbers', async () => {
    const grower = await rawAgent('(drop (memory.grow (i32.const 10))) (i32.const 0)');
    expect((await deploy('grower', grower, { limits: { memory_pages: 8 } })).status).toBe(201);
    const grown = await request('grower');
    expect(grown.body.replies[0]).toMatchObject({ performative: 'failure', content: { error: { details: { reason: 'memory_exhausted' } } } });
    const huge = await rawAgent('(i32.const 0)', '(memory (export "memory") 4000)');
    const refused = await deploy('huge', huge);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(/minimum of 4000 pages, above this agent's limit of 256 pages/);
  });

  it('an agent trapping 5 times within 60 s is failed in `caxton agent inspect`; its requesters get failure', async () => {
    expect((await deploy('crash', await rawAgent('unreachable'))).status).toBe(201);
    for (let i = 0; i < 5; i++) {
      const { body } = await request('crash');
      expect(body.replies[0].performative).toBe('failure');
    }
    const after = await request('crash');
    expect(after.body.replies[0]).toMatchObject({ performative: 'failure' });
    const inspected = await runCli(['agent', 'inspect', 'crash'], { CAXTON_SERVER: node.url, CAXTON_API_KEY: key });
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(inspected.stdout).toMatch(/state:\s+failed/);
    expect(inspected.stdout).toContain('unreachable');
  });

  const clang = wasiClang();
  if (!clang.ok) console.warn(`SKIPPING the wasi-libc C agent test: ${clang.reason}`);
  it.skipIf(!clang.ok)('runs a wasi-libc C reactor: its printf reaches the agent log and it answers', async () => {
    expect(existsSync(exampleWasm('c-clock'))).toBe(true);
    expect((await deploy('clock', exampleModule('c-clock'))).status).toBe(201);
    const { body } = await request('clock');
    expect(body.replies[0]).toMatchObject({ performative: 'inform', content: { monotonic_ns: expect.any(Number) } });
    expect(body.replies[0].content.realtime_s).toBeGreaterThan(1_600_000_000);
    const logs = await api('/api/v1/agents/clock/logs');
    expect(logs.body.lines.map((l: { message: string }) => l.message)).toContainEqual(expect.stringMatching(/^clock: request from client:.* at \d+ ns$/));
  });
});
