// Fuzzing the REST boundary of the real node (src/node/node.ts, API built and injected, no port): any method,
// path, query string, headers and body a client can send, and message JSON through POST /api/v1/messages. The
// properties: nothing answers 500 (or any 5xx but the contract's 503) or throws out of the server, and every error has the API's one shape
// {"error": {"code": "UPPER_SNAKE", "message": "..."}}.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { CaxtonNode } from '../../src/node/node.ts';
import { fuzzParameters, fuzzTimeoutMs } from './fuzz-runs.ts';
import { agentWorkersEnv } from '../helpers/agent-workers.ts';

let node: CaxtonNode;
let dataDir: string;
let adminKey: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'caxton-fuzz-rest-'));
  const config = loadConfig({
    flags: {
      dataDir,
      logLevel: 'silent',
      apiAddr: '127.0.0.1:0',
      // The fuzzer is one very busy client: lift its budgets so that it reaches the handlers, not the limiter.
      'api.rate_limit_roles': ['admin=100000000', 'sender=100000000'],
      'api.rate_limit_max': 100_000_000,
      'api.auth_failures_max': 100_000_000,
    },
    env: agentWorkersEnv(),
  });
  node = await CaxtonNode.start({ config, listen: 'inject', gossip: false });
  adminKey = node.state.adminKey.key;
});
afterAll(async () => {
  await node?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every route, with `:param` where a fuzzed path segment goes. Streams that never end are left out (events, follow). */
const ROUTES: readonly [string, string][] = [
  ['GET', '/health'],
  ['GET', '/metrics'],
  ['GET', '/openapi.json'],
  ['GET', '/api/v1/agents'],
  ['POST', '/api/v1/agents'],
  ['GET', '/api/v1/agents/:p'],
  ['PUT', '/api/v1/agents/:p'],
  ['DELETE', '/api/v1/agents/:p'],
  ['POST', '/api/v1/agents/:p/:p'],
  ['GET', '/api/v1/agents/:p/logs'],
  ['POST', '/api/v1/messages'],
  ['GET', '/api/v1/conversations/:p'],
  ['GET', '/api/v1/dead-letters'],
  ['DELETE', '/api/v1/dead-letters'],
  ['GET', '/api/v1/cluster/members'],
  ['GET', '/api/v1/cluster/status'],
  ['GET', '/api/v1/cluster/performance'],
  ['GET', '/api/v1/security/keys'],
  ['POST', '/api/v1/security/keys/:p'],
  ['GET', '/api/v1/security/api-keys'],
  ['POST', '/api/v1/security/api-keys'],
  ['DELETE', '/api/v1/security/api-keys/:p'],
  ['PATCH', '/api/v1/agents'],
  ['OPTIONS', '/api/v1/messages'],
];

const segment = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.constantFrom('echo', 'admin', '..', '%', '%zz', '%E0%A4%A', 'a'.repeat(300), 'start', 'stop', 'install', 'x?y=1', '%00'),
);
/** Query keys that would turn a request into a stream held open for its whole wait. */
const STREAMING_KEYS = new Set(['follow', 'stream']);
const queryKey = fc.oneof(fc.constantFrom('wait_ms', 'limit', 'after_seq', 'node', 'capability', '__proto__', 'constructor'), fc.string({ maxLength: 12 }));
const queryValue = fc.oneof(
  fc.constantFrom('', '0', '-1', '1e9', '60000', 'NaN', 'true', '[]', '%', '%zz', '9'.repeat(30)),
  fc.string({ maxLength: 20 }),
);
const queryString = fc
  .array(fc.tuple(queryKey, queryValue), { maxLength: 5 })
  .map((pairs) => pairs.filter(([k]) => !STREAMING_KEYS.has(k)).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
const rawQuery = fc.oneof(queryString, fc.string({ maxLength: 40 }).filter((s) => !/follow|stream|#/.test(s)));

const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ type: 'application/json', payload: JSON.stringify(v) })),
  fc.string({ maxLength: 200 }).map((s) => ({ type: 'application/json', payload: s })),
  fc.uint8Array({ maxLength: 200 }).map((b) => ({ type: 'application/octet-stream', payload: Buffer.from(b) })),
  fc.string({ maxLength: 100 }).map((s) => ({ type: 'multipart/form-data; boundary=x', payload: `--x\r\n${s}\r\n--x--` })),
  fc.string({ maxLength: 100 }).map((s) => ({ type: 'text/plain', payload: s })),
);

const authorization = fc.oneof(
  fc.constant('admin'),
  fc.constant(undefined),
  fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
  fc.string({ maxLength: 60 }),
  fc.constant('Bearer a.b.c'),
);

/** The property every answer keeps. */
function checkAnswer(res: LightMyRequestResponse): void {
  // 503 is a contract answer (not ready, no gossip on this node); anything else of 5xx is a failure of ours.
  if (res.statusCode >= 500) expect(res.statusCode, res.body).toBe(503);
  if (res.statusCode >= 400) {
    const parsed = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
    expect(parsed.error?.code, res.body).toMatch(/^[A-Z][A-Z_]*$/);
    expect(typeof parsed.error?.message, res.body).toBe('string');
  }
}

async function send(options: InjectOptions): Promise<LightMyRequestResponse> {
  return node.api!.inject(options);
}

describe('fuzz: REST API of the real node', () => {
  it(
    'any method, path, query, credentials and body: never 500, every error in the API shape',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...ROUTES), fc.array(segment, { minLength: 2, maxLength: 2 }), rawQuery, body, authorization, async ([method, pattern], params, query, content, auth) => {
          let i = 0;
          const path = pattern.replace(/:p/g, () => params[i++ % params.length]);
          const headers: Record<string, string> = {};
          if (auth === 'admin') headers.authorization = `Bearer ${adminKey}`;
          else if (auth !== undefined) headers.authorization = auth;
          if (content) headers['content-type'] = content.type;
          const res = await send({ method: method as InjectOptions['method'], url: query ? `${path}?${query}` : path, headers, payload: content?.payload });
          checkAnswer(res);
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeoutMs(10),
  );

  it(
    'message JSON through POST /api/v1/messages: never 500, every error in the API shape',
    async () => {
      const performative = fc.oneof(
        fc.constantFrom('inform', 'request', 'query-ref', 'cfp', 'propose', 'agree', 'failure', 'not-understood', 'INFORM'),
        fc.string({ maxLength: 12 }),
      );
      const message = fc.record(
        {
          performative,
          receiver: fc.oneof(fc.string({ maxLength: 30 }), fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
          content: fc.jsonValue({ maxDepth: 6 }),
          protocol: fc.oneof(fc.constantFrom('fipa-request', 'fipa-contract-net', 'fipa-query'), fc.string({ maxLength: 12 })),
          conversation_id: fc.oneof(fc.uuid(), fc.string({ maxLength: 30 })),
          in_reply_to: fc.string({ maxLength: 30 }),
          reply_by: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 20 }), fc.integer()),
          ontology: fc.string({ maxLength: 12 }),
          language: fc.string({ maxLength: 12 }),
          sender: fc.string({ maxLength: 12 }),
          extra: fc.jsonValue({ maxDepth: 2 }),
        },
        { requiredKeys: [] },
      );
      const waitMs = fc.oneof(fc.constant(undefined), fc.constantFrom('0', '1', '-5', 'abc', '99999999'));
      await fc.assert(
        fc.asyncProperty(message, waitMs, async (input, wait) => {
          const res = await send({
            method: 'POST',
            url: wait === undefined ? '/api/v1/messages' : `/api/v1/messages?wait_ms=${wait}`,
            headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
            payload: JSON.stringify(input),
          });
          checkAnswer(res);
        }),
        fuzzParameters(),
      );
    },
    fuzzTimeoutMs(10),
  );
});
