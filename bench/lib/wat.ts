// Compiles the benchmark agents from WAT with the wabt package.
import { readFileSync } from 'node:fs';

export async function benchAgent(name: string): Promise<Uint8Array<ArrayBuffer>> {
  const wabt = await (await import('wabt')).default();
  const source = readFileSync(new URL(`../agents/${name}.wat`, import.meta.url), 'utf8');
  return new Uint8Array(wabt.parseWat(`${name}.wat`, source).toBinary({}).buffer);
}
