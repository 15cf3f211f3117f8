// Builds the web console (src/console, Preact + htm) into build/console: one minified, content-hashed script
// and stylesheet, and index.html naming them. The node serves that directory at /ui (src/api/routes/console.ts).
// Each file also gets .br and .gz twins, compressed once here at the highest level, which @fastify/static
// sends to a browser that accepts them (`preCompressed`): no compression work per request.
// Called by scripts/build-examples.ts (so `npm ci` builds it); runnable alone: `npx tsx scripts/build-console.ts`.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(repoRoot, 'src/console');
export const CONSOLE_BUILD_DIR = join(repoRoot, 'build/console');

const hash = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex').slice(0, 12);

export interface ConsoleBuild {
  dir: string;
  files: Record<string, number>;
}

export async function buildConsole(outDir = CONSOLE_BUILD_DIR): Promise<ConsoleBuild> {
  const bundle = await build({
    entryPoints: [join(sourceDir, 'main.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  const script = bundle.outputFiles[0].contents;
  const style = readFileSync(join(sourceDir, 'style.css'));
  const scriptName = `app.${hash(script)}.js`;
  const styleName = `style.${hash(style)}.css`;
  const index = readFileSync(join(sourceDir, 'index.html'), 'utf8').replace('{{script}}', `assets/${scriptName}`).replace('{{style}}', `assets/${styleName}`);

  // Written whole into a fresh directory beside the old one, then swapped in: a node serving the old one
  // never globs a half-written directory, and an old hashed file does not linger to be served forever.
  const staging = `${outDir}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'assets'), { recursive: true });
  writeFileSync(join(staging, 'assets', scriptName), script);
  writeFileSync(join(staging, 'assets', styleName), style);
  writeFileSync(join(staging, 'index.html'), index);
  const files: Record<string, number> = {};
  for (const name of ['index.html', `assets/${scriptName}`, `assets/${styleName}`]) {
    const bytes = readFileSync(join(staging, name));
    files[name] = bytes.length;
    writeFileSync(join(staging, `${name}.br`), brotliCompressSync(bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }));
    writeFileSync(join(staging, `${name}.gz`), gzipSync(bytes, { level: 9 }));
  }
  rmSync(outDir, { recursive: true, force: true });
  renameSync(staging, outDir);
  return { dir: outDir, files };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildConsole(process.argv[2] ? resolve(process.argv[2]) : undefined);
  for (const [name, bytes] of Object.entries(built.files)) console.log(`console ${name.padEnd(34)} ${String(bytes).padStart(7)} B`);
}
