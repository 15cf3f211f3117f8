// /ui without a browser: public static files with a strict CSP, revalidated index and immutable hashed
// assets, and a plain 503 that says how to build the console when it is not built.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bearer, makeApi } from './helpers.ts';

function builtConsole(): string {
  const dir = mkdtempSync(join(tmpdir(), 'caxton-console-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="assets/app.abc.js"></script>');
  writeFileSync(join(dir, 'assets', 'app.abc.js'), 'console.log(1)');
  return dir;
}

describe('GET /ui', () => {
  it('serves the console without credentials, with CSP and cache headers', async () => {
    const { app } = makeApi({ consoleDir: builtConsole() });
    const index = await app.inject({ url: '/ui/' });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toMatch(/text\/html/);
    expect(index.headers['cache-control']).toBe('no-cache');
    expect(index.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(index.headers.vary).toBe('accept-encoding');
    const asset = await app.inject({ url: '/ui/assets/app.abc.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await app.inject({ url: '/ui' })).statusCode).toBe(301);
    // Anything else under /ui is an unknown route: behind credentials like every unknown route, then 404.
    expect((await app.inject({ url: '/ui/nope.js' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/ui/nope.js', headers: bearer() })).statusCode).toBe(404);
    expect((await app.inject({ url: '/ui/%2e%2e/package.json', headers: bearer() })).statusCode).toBe(404);
    // The API stays behind its credentials.
    expect((await app.inject({ url: '/api/v1/agents' })).statusCode).toBe(401);
  });

  it('answers 503 with how to build it when the console is not built', async () => {
    const { app } = makeApi({ consoleDir: join(tmpdir(), 'caxton-no-console-here') });
    const res = await app.inject({ url: '/ui/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:examples');
  });

  it('is absent when switched off', async () => {
    const { app } = makeApi({ consoleDir: false });
    expect((await app.inject({ url: '/ui/', headers: bearer() })).statusCode).toBe(404);
  });
});
