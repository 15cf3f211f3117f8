// Issue 10: `binaryen` was a devDependency while fuel metering imports it at run time, so an install with
// `--omit=dev` (how servers are deployed) broke every deploy. Every package the node and CLI import at run
// time (static imports, re-exports, literal dynamic imports, worker scripts) must be a dependency.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repoRoot = new URL('../..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const builtins = new Set(builtinModules);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Bare specifiers loaded at run time: type-only imports are erased, so they are left out. */
export function runtimeSpecifiers(source: string): string[] {
  const found: string[] = [];
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const patterns = [
    /^\s*import\s+(?!type\s)(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/gm,
    /^\s*export\s+(?!type\s)[\w*{}\s,$]*?\s+from\s+['"]([^'"]+)['"]/gm,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]);
  return found;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`; relative, absolute and builtins → null. */
function packageOf(specifier: string): string | null {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:') || specifier.startsWith('file:')) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtins.has(name) ? null : name;
}

describe('runtime dependencies', () => {
  it('finds static, re-exported, dynamic and side-effect imports but not type-only ones', () => {
    const sample = [
      "import binaryen from 'binaryen';",
      "import type { Foo } from 'typescript';",
      "import 'reflect-metadata';",
      "export { a } from '@scope/pkg/sub';",
      "export type { B } from 'vitest';",
      "const m = await import('yaml');",
      "import { x,\n  y } from 'zod';",
    ].join('\n');
    expect(runtimeSpecifiers(sample).map(packageOf).sort()).toEqual(['@scope/pkg', 'binaryen', 'reflect-metadata', 'yaml', 'zod']);
  });

  it('every package imported under src/ and bin/ at run time is in dependencies, not devDependencies', () => {
    const files = [...sourceFiles(join(repoRoot, 'src')), ...sourceFiles(join(repoRoot, 'bin'))];
    expect(files.some((f) => f.endsWith('fuel-instrument.mjs'))).toBe(true);
    const misplaced: string[] = [];
    const used = new Set<string>();
    for (const file of files) {
      for (const specifier of runtimeSpecifiers(readFileSync(file, 'utf8'))) {
        const name = packageOf(specifier);
        if (name === null) continue;
        used.add(name);
        if (!Object.hasOwn(pkg.dependencies, name)) {
          const where = Object.hasOwn(pkg.devDependencies, name) ? 'a devDependency' : 'not in package.json';
          misplaced.push(`${file.slice(repoRoot.length)}: imports ${name}, ${where}`);
        }
      }
    }
    expect(misplaced).toEqual([]);
    expect(used.has('binaryen')).toBe(true);
  });
});
