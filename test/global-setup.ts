// Builds the example agents once per test run so every test file can deploy them.
import { existsSync } from 'node:fs';

export default async function setup(): Promise<void> {
  const script = new URL('../scripts/build-examples.ts', import.meta.url);
  if (!existsSync(script)) return;
  const { buildExamples } = (await import(script.href)) as { buildExamples: () => Promise<Record<string, string>> };
  await buildExamples();
}
