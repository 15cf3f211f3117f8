// The web console's first load on a local node: bytes sent for /ui/ (index, script, stylesheet) with brotli,
// with gzip and uncompressed, and the time to interactive in Debian's chromium (playwright-core), cold cache each run:
//   login_form_ms   navigation start → the login form is on screen (a new visitor)
//   cluster_ms      navigation start → logged in (key already in the tab) and the member list drawn from the API
// Times are read in the page (performance.now() since navigation start) on the first animation frame that
// shows the element. One JSON line per run, then the medians.
// Usage: node --import tsx bench/console.ts [runs=7]
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { buildConsole } from '../scripts/build-console.ts';
import { loadConfig } from '../src/config/config.ts';
import { CaxtonNode } from '../src/node/node.ts';
import { median, round } from './lib/stats.ts';

const runs = Number(process.argv[2] ?? 7);
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) {
  console.log(JSON.stringify({ bench: 'console', skipped: `no chromium at ${chromiumPath}` }));
  process.exit(0);
}

await buildConsole();
const dataDir = mkdtempSync(join(tmpdir(), 'caxton-console-bench-'));
const config = loadConfig({ flags: { dataDir, logLevel: 'silent', apiAddr: '127.0.0.1:0', nodeId: 'bench' } });
const node = await CaxtonNode.start({ config, gossip: false });
const address = node.api!.server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
const key = node.state.adminKey.key;

// Bytes: what a first visit downloads, as sent to a browser accepting brotli (chromium does), to one accepting
// gzip only, and uncompressed.
function download(path: string, encoding: string): Promise<{ body: Buffer; wire: number; encoding: string }> {
  return new Promise((resolve, reject) => {
    get(`${url}${path}`, { headers: encoding ? { 'accept-encoding': encoding } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const sent = String(res.headers['content-encoding'] ?? '');
        const body = sent === 'br' ? brotliDecompressSync(raw) : sent === 'gzip' ? gunzipSync(raw) : raw;
        resolve({ body, wire: raw.length, encoding: sent });
      });
    }).on('error', reject);
  });
}
const files: Record<string, { bytes: number; br_bytes: number; gzip_bytes: number }> = {};
const index = (await download('/ui/', '')).body.toString();
for (const path of ['/ui/', ...(index.match(/assets\/[\w.-]+\.(js|css)/g) ?? []).map((a) => `/ui/${a}`)]) {
  const [plain, br, gzip] = [await download(path, ''), await download(path, 'br, gzip'), await download(path, 'gzip')];
  if (br.encoding !== 'br' || gzip.encoding !== 'gzip') throw new Error(`${path}: not served precompressed (${br.encoding}, ${gzip.encoding})`);
  files[path === '/ui/' ? 'index.html' : path.replace('/ui/', '').replace(/\.[0-9a-f]{12}\./, '.')] = { bytes: plain.wire, br_bytes: br.wire, gzip_bytes: gzip.wire };
}
const total = Object.values(files).reduce(
  (sum, f) => ({ bytes: sum.bytes + f.bytes, br_bytes: sum.br_bytes + f.br_bytes, gzip_bytes: sum.gzip_bytes + f.gzip_bytes }),
  { bytes: 0, br_bytes: 0, gzip_bytes: 0 },
);

const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
// A function, not a string: the console's CSP forbids eval, which is how a string predicate runs.
const shownAt = (selector: string) => (document.querySelector(selector) ? performance.now() : false);
const loginMs: number[] = [];
const clusterMs: number[] = [];
try {
  for (let run = 0; run < runs; run++) {
    // A fresh context each run: empty cache, empty sessionStorage.
    const visitor = await browser.newContext();
    const page = await visitor.newPage();
    await page.goto(`${url}/ui/`, { waitUntil: 'commit' });
    const login = Number(await (await page.waitForFunction(shownAt, '#api-key', { polling: 'raf' })).jsonValue());
    await visitor.close();

    const returning = await browser.newContext();
    await returning.addInitScript((k: string) => sessionStorage.setItem('caxton.apiKey', k), key);
    const page2 = await returning.newPage();
    await page2.goto(`${url}/ui/`, { waitUntil: 'commit' });
    const cluster = Number(await (await page2.waitForFunction(shownAt, '[data-testid=member-row]', { polling: 'raf' })).jsonValue());
    await returning.close();
    loginMs.push(login);
    clusterMs.push(cluster);
    console.log(JSON.stringify({ bench: 'console', run, login_form_ms: round(login, 1), cluster_ms: round(cluster, 1) }));
  }
} finally {
  await browser.close();
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(
  JSON.stringify({
    bench: 'console',
    summary: true,
    runs,
    first_load_bytes: total.bytes,
    first_load_br_bytes: total.br_bytes,
    first_load_gzip_bytes: total.gzip_bytes,
    files,
    login_form_ms_median: round(median(loginMs), 1),
    cluster_ms_median: round(median(clusterMs), 1),
  }),
);
